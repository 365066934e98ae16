import { useState } from 'preact/hooks';
import { ApiError, api, setToken, type Page, type Project } from '../lib/api';

/** Asks for a read token, checks it against /api/v1/projects and keeps it for this browser tab only. */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setToken(value.trim());
    try {
      await api<Page<Project>>('/api/v1/projects');
      onSignedIn(value.trim());
    } catch (err) {
      setToken(null);
      setError(err instanceof ApiError && err.status === 401 ? 'The listener does not know this token.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="signin">
      <form onSubmit={submit} class="card">
        <h1>Bitville APM</h1>
        <p>Sign in with a read token from the listener's <code>tokens</code> config. It is kept for this tab only (sessionStorage).</p>
        {notice && <div class="state error" role="alert">{notice}</div>}
        <label>
          Token
          <input type="password" name="token" autoComplete="current-password" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} required autoFocus />
        </label>
        {error && <div class="state error" role="alert">{error}</div>}
        <button type="submit" disabled={busy || value.trim() === ''}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </div>
  );
}
