import { useEffect, useState } from 'react';
import { usePreferences } from '../../stores/preferences';
import { SessionControls } from '../auth/SessionControls';
import { CompactGPUStatus } from '../SystemMonitor/CompactGPUStatus';
import { AppVersion } from './AppVersion';
import { Link } from './router';

export interface NavItem {
  path: string;
  label: string;
  /** A count shown next to the label (firing alerts); hidden at 0. */
  badge?: number;
}

/** One row everywhere: on a phone the links and status fold into a menu that closes on navigation. */
export function NavBar({ items, currentPath }: { items: NavItem[]; currentPath: string }) {
  const theme = usePreferences((state) => state.theme);
  const setTheme = usePreferences((state) => state.setTheme);
  const nextTheme = theme === 'dark' ? 'light' : 'dark';
  const [open, setOpen] = useState(false);
  const firing = items.reduce((total, item) => total + (item.badge ?? 0), 0);

  useEffect(() => setOpen(false), [currentPath]);

  return (
    <nav className="nav" aria-label="Main" data-open={open}>
      <Link to="/" className="nav-brand">
        <span className="nav-logo" aria-hidden="true">
          ▮
        </span>
        GPU Sentinel
      </Link>
      <AppVersion />
      <button
        type="button"
        className="btn btn-small nav-toggle"
        aria-expanded={open}
        aria-controls="nav-menu"
        onClick={() => setOpen(!open)}
      >
        Menu
        {firing > 0 && !open ? (
          <span className="nav-badge" aria-label={`${firing} firing`}>
            {firing}
          </span>
        ) : null}
      </button>
      <div className="nav-menu" id="nav-menu">
        <div className="nav-links">
          {items.map((item) => (
            <Link
              key={item.path}
              to={item.path}
              className="nav-link"
              aria-current={currentPath === item.path || currentPath.startsWith(`${item.path}/`) ? 'page' : undefined}
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
      </div>
    </nav>
  );
}
