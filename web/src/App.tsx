import { useEffect } from 'react';
import { NavBar, type NavItem } from './components/layout/NavBar';
import { Link, usePath } from './components/layout/router';
import { SystemMonitor } from './components/SystemMonitor/SystemMonitor';
import { UsageView } from './components/usage/UsageView';
import { useServerHistory } from './stores/serverHistory';
import { useSystemMonitorStore } from './stores/systemMonitorStore';

const DASHBOARD: NavItem = { path: '/', label: 'Dashboard' };
const USAGE: NavItem = { path: '/usage', label: 'Usage' };

function NotFound() {
  return (
    <div className="panel empty-state">
      <h3>Page not found</h3>
      <p className="muted">
        <Link to="/">Back to the dashboard</Link>
      </p>
    </div>
  );
}

export function App() {
  const path = usePath();
  const theme = useSystemMonitorStore((state) => state.theme);
  // The usage page needs server history; without it the navigation does not offer it.
  const serverHistory = useServerHistory((state) => state.available);

  useEffect(() => {
    void useServerHistory.getState().probe();
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <NavBar items={serverHistory ? [DASHBOARD, USAGE] : [DASHBOARD]} currentPath={path} />
      <main id="main" tabIndex={-1}>
        {path === '/' || path === '/index.html' ? (
          <SystemMonitor />
        ) : path === USAGE.path && serverHistory !== false ? (
          <UsageView />
        ) : (
          <NotFound />
        )}
      </main>
    </>
  );
}
