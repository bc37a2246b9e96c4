import { useState, type FormEvent } from 'react';
import { useSession } from '../../auth/session';

/** User name and password for `/api/v1/auth/login`; the server's refusal is shown as it said it. */
export function LoginForm({ onDone }: { onDone?: () => void }) {
  const login = useSession((state) => state.login);
  const error = useSession((state) => state.loginError);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const ok = await login(username.trim(), password);
    setBusy(false);
    if (ok) {
      setPassword('');
      onDone?.();
    }
  };

  return (
    <form className="login-form" onSubmit={(event) => void submit(event)} data-testid="login-form">
      <label htmlFor="login-username">User name</label>
      <input
        id="login-username"
        autoComplete="username"
        value={username}
        onChange={(event) => setUsername(event.target.value)}
        required
        autoFocus
      />
      <label htmlFor="login-password">Password</label>
      <input
        id="login-password"
        type="password"
        autoComplete="current-password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
        required
      />
      {error && (
        <p className="form-error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" className="btn btn-primary" disabled={busy || !username || !password}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
