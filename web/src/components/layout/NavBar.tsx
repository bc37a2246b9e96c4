import { useSystemMonitorStore } from '../../stores/systemMonitorStore';
import { SessionControls } from '../auth/SessionControls';
import { CompactGPUStatus } from '../SystemMonitor/CompactGPUStatus';
import { Link } from './router';

export interface NavItem {
  path: string;
  label: string;
  /** A count shown next to the label (firing alerts); hidden at 0. */
  badge?: number;
}

export function NavBar({ items, currentPath }: { items: NavItem[]; currentPath: string }) {
  const theme = useSystemMonitorStore((state) => state.theme);
  const setTheme = useSystemMonitorStore((state) => state.setTheme);
  const nextTheme = theme === 'dark' ? 'light' : 'dark';
  return (
    <nav className="nav" aria-label="Main">
      <Link to="/" className="nav-brand">
        <span className="nav-logo" aria-hidden="true">
          ▮
        </span>
        GPU Sentinel
      </Link>
      <div className="nav-links">
        {items.map((item) => (
          <Link
            key={item.path}
            to={item.path}
            className="nav-link"
            aria-current={currentPath === item.path ? 'page' : undefined}
          >
            {item.label}
            {item.badge ? (
              <span className="nav-badge" data-testid="nav-badge" aria-label={`${item.badge} firing`}>
                {item.badge}
              </span>
            ) : null}
          </Link>
        ))}
      </div>
      <span className="nav-spacer" />
      <CompactGPUStatus />
      <SessionControls />
      <button
        type="button"
        className="btn btn-small"
        onClick={() => setTheme(nextTheme)}
        aria-label={`Switch to ${nextTheme} theme`}
        data-testid="theme-toggle"
      >
        <span aria-hidden="true">{theme === 'dark' ? '☀' : '☾'}</span>
        {nextTheme === 'light' ? 'Light' : 'Dark'}
      </button>
    </nav>
  );
}
