import { useEffect, useState } from 'preact/hooks';
import { getToken, setToken } from './lib/api';
import { onLinkClick, useLocation } from './lib/router';
import { DbSessionView } from './pages/db-session';
import { EndpointView } from './pages/endpoint';
import { Overview } from './pages/overview';
import { RequestDetailPage } from './pages/request-detail';
import { Search } from './pages/search';
import { SignIn } from './pages/sign-in';

export function App() {
  const loc = useLocation();
  const [token, setTok] = useState(getToken());
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    const onUnauthorized = () => {
      setToken(null);
      setTok(null);
      setNotice('The listener refused the token (401). Sign in again.');
    };
    window.addEventListener('bitville:unauthorized', onUnauthorized);
    return () => window.removeEventListener('bitville:unauthorized', onUnauthorized);
  }, []);

  if (token === null) return <SignIn notice={notice} onSignedIn={(t) => { setToken(t); setNotice(null); setTok(t); }} />;

  const project = loc.params.get('project');
  const keep = project ? `?project=${encodeURIComponent(project)}` : '';
  let page;
  if (loc.path === '/' || loc.path === '/overview') page = <Overview params={loc.params} />;
  else if (loc.path === '/search') page = <Search params={loc.params} />;
  else if (loc.path.startsWith('/requests/')) page = <RequestDetailPage id={decodeURIComponent(loc.path.slice('/requests/'.length))} params={loc.params} />;
  else if (loc.path === '/endpoint') page = <EndpointView params={loc.params} />;
  else if (loc.path === '/db/session') page = <DbSessionView params={loc.params} />;
  else page = <div class="state empty">No page at {loc.path}. <a href="/" onClick={onLinkClick}>Go to the overview</a>.</div>;

  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={`/${keep}`} onClick={onLinkClick}>Bitville APM</a>
        <nav>
          <a href={`/${keep}`} onClick={onLinkClick} class={loc.path === '/' ? 'active' : ''}>Overview</a>
          <a href={`/search${keep}`} onClick={onLinkClick} class={loc.path === '/search' ? 'active' : ''}>Search</a>
        </nav>
        <button class="link signout" onClick={() => { setToken(null); setTok(null); }}>Sign out</button>
      </header>
      <main>{page}</main>
    </div>
  );
}
