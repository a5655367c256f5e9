/** Sign in with the cluster token, or with a user name and password. */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, login } from '../api.ts';
import { FormError } from '../components/ui.tsx';
import { navigate, useRoute } from '../router.tsx';
import { safeNext } from '../routes.ts';
import { useTheme } from '../theme.ts';

type Mode = 'token' | 'password';

export default function Login() {
  const route = useRoute();
  const [mode, setMode] = useState<Mode>('token');
  const [token, setToken] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const firstField = useRef<HTMLInputElement>(null);
  useTheme();

  useEffect(() => {
    document.title = 'Sign in · Titan';
  }, []);
  useEffect(() => {
    firstField.current?.focus();
  }, [mode]);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setError(null);
    if (mode === 'token' ? token.trim() === '' : user.trim() === '' || password === '') {
      setError(mode === 'token' ? 'Enter the cluster token.' : 'Enter your user name and password.');
      return;
    }
    setBusy(true);
    try {
      await login(mode === 'token' ? { token: token.trim() } : { user: user.trim(), password });
      navigate(safeNext(route.query.get('next')), { replace: true });
    } catch (err) {
      // The master's own words: "wrong token", "wrong user or password", "this master has no dashboard user…", "too many failed sign-ins…".
      const text = err instanceof Error ? err.message : String(err);
      if (err instanceof ApiError && err.status === 0) setError(`Cannot reach the master: ${text}`);
      else setError(text.charAt(0).toUpperCase() + text.slice(1) + (/[.)]$/.test(text) ? '' : '.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={(e) => void submit(e)} aria-labelledby="login-title" noValidate>
        <div className="login-brand">
          <span className="brand-mark" aria-hidden="true">
            T
          </span>
          <h1 id="login-title">Sign in to Titan</h1>
        </div>
        <fieldset className="segmented" disabled={busy}>
          <legend className="visually-hidden">Sign in with</legend>
          <label className={mode === 'token' ? 'selected' : ''}>
            <input type="radio" name="mode" value="token" checked={mode === 'token'} onChange={() => setMode('token')} />
            Cluster token
          </label>
          <label className={mode === 'password' ? 'selected' : ''}>
            <input type="radio" name="mode" value="password" checked={mode === 'password'} onChange={() => setMode('password')} />
            User and password
          </label>
        </fieldset>
        {mode === 'token' ? (
          <div className="field">
            <label htmlFor="login-token">Token</label>
            <input
              id="login-token"
              ref={firstField}
              type="password"
              autoComplete="current-password"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              aria-describedby="login-token-help"
              spellCheck={false}
            />
            <p id="login-token-help" className="help">
              The master prints it at start-up and keeps it in its data directory (<code>token</code>).
            </p>
          </div>
        ) : (
          <>
            <div className="field">
              <label htmlFor="login-user">User</label>
              <input id="login-user" ref={firstField} type="text" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} spellCheck={false} />
            </div>
            <div className="field">
              <label htmlFor="login-password">Password</label>
              <input id="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </div>
          </>
        )}
        <FormError error={error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
