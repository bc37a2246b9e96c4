import { useSession } from '../../auth/session';
import { Link } from '../layout/router';

/** The navigation bar's corner: who is signed in and Sign out, or a small Sign in where reads are open. */
export function SessionControls() {
  const identity = useSession((state) => state.identity);
  const tokens = useSession((state) => state.tokens);
  const logout = useSession((state) => state.logout);

  if (tokens && identity && !identity.anonymous) {
    return (
      <span className="session" data-testid="session">
        <span className="muted" data-testid="session-user">
          {identity.username} <span className="faint">({identity.role})</span>
        </span>
        <button type="button" className="btn btn-small" onClick={() => logout()} data-testid="sign-out">
          Sign out
        </button>
      </span>
    );
  }
  return (
    <Link to="/login" className="nav-link" data-testid="sign-in">
      Sign in
    </Link>
  );
}
