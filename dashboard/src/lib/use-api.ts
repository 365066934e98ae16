import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Params } from './api';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: ApiError } | { state: 'ok'; data: T };

/** Fetches `path` whenever it or its parameters change; `null` means "not yet". Older answers are dropped. */
export function useApi<T>(path: string | null, params: Params = {}): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const key = path === null ? '' : path + JSON.stringify(params);
  useEffect(() => {
    if (path === null) return undefined;
    const ctl = new AbortController();
    setResult({ state: 'loading' });
    api<T>(path, params, ctl.signal).then(
      (data) => setResult({ state: 'ok', data }),
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setResult({ state: 'error', error: err instanceof ApiError ? err : new ApiError(0, String(err)) });
      },
    );
    return () => ctl.abort(); // `key` stands for path + params: a new object each render must not refetch
  }, [key]);
  return result;
}
