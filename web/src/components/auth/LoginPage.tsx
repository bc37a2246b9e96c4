import { LoginForm } from './LoginForm';

/** Shown instead of the dashboard when the service wants a token for every read. */
export function LoginPage({ optional = false, onDone }: { optional?: boolean; onDone?: () => void }) {
  return (
    <div className="login-page" data-testid="login-page">
      <div className="panel login-panel">
        <h1>
          <span className="nav-logo" aria-hidden="true">
            ▮
          </span>{' '}
          GPU Sentinel
        </h1>
        <p className="muted">
          {optional
            ? 'Sign in to manage alerts. Reading the dashboard needs no account here.'
            : 'This service needs you to sign in before it shows its metrics.'}
        </p>
        <LoginForm {...(onDone ? { onDone } : {})} />
      </div>
    </div>
  );
}
