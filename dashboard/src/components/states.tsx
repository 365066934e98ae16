import type { ComponentChildren } from 'preact';
import type { Loaded } from '../lib/use-api';

export function Loading({ what }: { what: string }) {
  return <div class="state loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true" /> Loading {what}…</div>;
}

export function ErrorBox({ message, status }: { message: string; status?: number }) {
  return <div class="state error" role="alert"><strong>{status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Could not load'}</strong>: {message}</div>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>;
}

/** Renders loading / error / the data, so every panel handles all three the same way. */
export function Show<T>({ value, what, children }: { value: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (value.state === 'loading') return <Loading what={what} />;
  if (value.state === 'error') return <ErrorBox message={value.error.message} status={value.error.status} />;
  return <>{children(value.data)}</>;
}
