import { useEffect, useState } from 'preact/hooks';

/** A tiny History-API router: the URL (path + query string) is the state, so every view can be shared. */
export interface Location {
  path: string;
  params: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, params: new URLSearchParams(window.location.search) };
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event('bitville:navigate'));
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    window.addEventListener('popstate', update);
    window.addEventListener('bitville:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('bitville:navigate', update);
    };
  }, []);
  return loc;
}

/** `<a href>` that navigates in-app on a plain left click and stays a real link otherwise. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href') ?? '/');
}
