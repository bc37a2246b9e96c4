import { useEffect } from 'react';
import { connectSession, useSession } from './auth/session';
import { AlertsPage } from './components/alerts/AlertsPage';
import { Toasts } from './components/alerts/Toasts';
import { LoginPage } from './components/auth/LoginPage';
import { NavBar, type NavItem } from './components/layout/NavBar';
import { Link, navigate, usePath } from './components/layout/router';
import { SystemMonitor } from './components/SystemMonitor/SystemMonitor';
import { UsageView } from './components/usage/UsageView';
import { onAlertEvent } from './stream/alertEvents';
import { firingCount, useAlertsStore } from './stores/alertsStore';
import { useServerHistory } from './stores/serverHistory';
import { useSystemMonitorStore } from './stores/systemMonitorStore';

const DASHBOARD: NavItem = { path: '/', label: 'Dashboard' };
const USAGE: NavItem = { path: '/usage', label: 'Usage' };
const ALERTS_PATH = '/alerts';
/** The badge's count also follows live events; this catches what happened while the stream was down. */
const ACTIVE_ALERTS_REFRESH_MS = 15_000;

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

/** Live data and alert events run app-wide, so notifications arrive on every page. */
function useLiveConnections(ready: boolean, token: string | null): void {
  useEffect(() => {
    if (!ready) return;
    const monitor = useSystemMonitorStore.getState();
    monitor.startPolling(monitor.updateInterval);
    return () => useSystemMonitorStore.getState().stopPolling();
  }, [ready]);

  useEffect(() => {
    useSystemMonitorStore.getState().reconnectStream();
  }, [token]);

  useEffect(() => {
    if (!ready) return;
    const alerts = useAlertsStore.getState();
    void alerts.refreshActive();
    const timer = setInterval(() => void alerts.refreshActive(), ACTIVE_ALERTS_REFRESH_MS);
    const unsubscribe = onAlertEvent(alerts.handleEvent);
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }, [ready, token]);
}

export function App() {
  const path = usePath();
  const theme = useSystemMonitorStore((state) => state.theme);
  const status = useSession((state) => state.status);
  const token = useSession((state) => state.tokens?.accessToken ?? null);
  const firing = useAlertsStore((state) => firingCount(state.active));
  // The usage page needs server history; without it the navigation does not offer it.
  const serverHistory = useServerHistory((state) => state.available);
  const ready = status === 'ready';

  useEffect(() => {
    connectSession();
    void useSession.getState().init();
  }, []);

  useEffect(() => {
    if (ready) void useServerHistory.getState().probe();
  }, [ready]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useLiveConnections(ready, token);

  if (status === 'checking') {
    return (
      <p className="muted checking" role="status">
        Connecting to GPU Sentinel…
      </p>
    );
  }
  if (status === 'login') return <LoginPage />;

  const alerts: NavItem = { path: ALERTS_PATH, label: 'Alerts', badge: firing };
  const items = serverHistory ? [DASHBOARD, USAGE, alerts] : [DASHBOARD, alerts];
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <NavBar items={items} currentPath={path} />
      <main id="main" tabIndex={-1}>
        {path === '/' || path === '/index.html' ? (
          <SystemMonitor />
        ) : path === USAGE.path && serverHistory !== false ? (
          <UsageView />
        ) : path === ALERTS_PATH ? (
          <AlertsPage />
        ) : path === '/login' ? (
          <LoginPage optional onDone={() => navigate(ALERTS_PATH)} />
        ) : (
          <NotFound />
        )}
      </main>
      <Toasts />
    </>
  );
}
