import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/api-client.js';
import { call } from '../api/dashboard-routes.js';
import type { Session } from '../api/types.js';
import { errorText } from '../format.js';
import { navigate } from '../router.js';

interface LoginViewProps {
  api: ApiClient;
  /** A one-time code from a `#/login?code=` link (`paddock dashboard`). */
  code: string | null;
  onSignedIn(session: Session): void;
}

export function LoginView({ api, code, onSignedIn }: LoginViewProps) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usedCode = useRef<string | null>(null);

  const signIn = async (body: { token: string } | { code: string }) => {
    setBusy(true);
    setError(null);
    try {
      const { session } = await api.json<{ session: Session }>(call('POST /v1/sessions'), { body });
      navigate('#/sandboxes');
      onSignedIn(session);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    // A code works once: sign in with it at most once, and take it out of the address bar and history.
    if (!code || usedCode.current === code) return;
    usedCode.current = code;
    window.history.replaceState(null, '', '#/login');
    void signIn({ code });
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) void signIn({ token: token.trim() });
  };

  return (
    <main id="main" className="login">
      <h1>Sign in to Paddock</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <p id="login-help" className="hint">
          A token from <code>paddock token create</code>, or run <code>paddock dashboard</code> for a one-time sign-in link.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}
