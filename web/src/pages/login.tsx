import { type FormEvent, useId, useState } from 'react';
import { errorText } from '../api.ts';
import { identify, LoginRefused } from '../auth.ts';
import { sessionEndReason, setSession } from '../session.ts';
import { useTitle } from '../use-session.ts';

/**
 * Paste a token. Its role decides what the console shows; agent and sensor
 * tokens are refused (they write findings and cannot read them). The token
 * stays in this tab only (sessionStorage).
 */
export function LoginPage() {
  useTitle('Log in');
  const id = useId();
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ended = sessionEndReason();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const t = token.trim();
    if (t === '') {
      setError('Paste a token first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const who = await identify(t);
      setSession({ token: t, ...who });
    } catch (err) {
      setError(err instanceof LoginRefused ? err.message : `Could not log in: ${errorText(err)}`);
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login">
      <h1>deminer console</h1>
      <p>Which machines are mining now, and what to do about them.</p>
      {ended === 'expired' && !error ? (
        <output className="notice block">
          The session ended: the server no longer accepts its token. Log in again.
        </output>
      ) : null}
      <form onSubmit={(e) => void submit(e)} className="login-form">
        <label htmlFor={`${id}-token`}>API token</label>
        <input
          id={`${id}-token`}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={`${id}-help${error ? ` ${id}-error` : ''}`}
          aria-invalid={error ? true : undefined}
        />
        <p id={`${id}-help`} className="help">
          An admin, analyst or viewer token. <code>deminer up</code> prints an admin token on its first start;{' '}
          <code>deminer token create --role viewer</code> makes more. It is kept in this tab only.
        </p>
        {error ? (
          <p id={`${id}-error`} className="notice notice-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
