import { useCallback, useEffect, useState } from 'react';
import { connectSession, useSession } from './auth/session';
import { AlertsPage } from './components/alerts/AlertsPage';
import { Toasts } from './components/alerts/Toasts';
import { LoginPage } from './components/auth/LoginPage';
import { FleetPage } from './components/fleet/FleetPage';
import { NavBar, type NavItem } from './components/layout/NavBar';
import { ShortcutsHelp } from './components/layout/ShortcutsHelp';
import { useKeyboardShortcuts } from './hooks/useKeyboardShortcuts';
import { Link, navigate, usePath } from './components/layout/router';
import { SystemMonitor } from './components/SystemMonitor/SystemMonitor';
import { UsageView } from './components/usage/UsageView';
import { ProcessesPage } from './components/processes/ProcessesPage';
import { onAlertEvent } from './stream/alertEvents';
import { firingCount, useAlertsStore } from './stores/alertsStore';
import { useFleet } from './stores/fleet';
import { useMetricCatalogue } from './stores/metricCatalogue';
import { useServerHistory } from './stores/serverHistory';
import { liveController } from './stores/liveController';
import { usePreferences } from './stores/preferences';
import { FLEET_PATH, isDashboardPath, isFleetPath, showsMonitor, syncUrlWithPreferences } from './stores/urlState';

const DASHBOARD: NavItem = { path: '/', label: 'Dashboard' };
const USAGE: NavItem = { path: '/usage', label: 'Usage' };
const FLEET: NavItem = { path: FLEET_PATH, label: 'Fleet' };
const PROCESSES: NavItem = { path: '/processes', label: 'Processes' };
const ALERTS_PATH = '/alerts';
/** The badge's count also follows live events; this catches what happened while the stream was down. */
const ACTIVE_ALERTS_REFRESH_MS = 15_000;

function NotFound() {
  return (
    <div className="panel empty-state">
      <h1>Page not found</h1>
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
    liveController.start();
    return () => liveController.stop();
  }, [ready]);

  useEffect(() => {
    liveController.reconnect();
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
  const theme = usePreferences((state) => state.theme);
  const status = useSession((state) => state.status);
  const token = useSession((state) => state.tokens?.accessToken ?? null);
  const firing = useAlertsStore((state) => firingCount(state.active));
  // The usage page needs server history; without it the navigation does not offer it.
  const serverHistory = useServerHistory((state) => state.available);
  // Only a hub (`serve --hub`) has a fleet to show.
  const hub = useFleet((state) => state.hub);
  const ready = status === 'ready';

  useEffect(() => {
    connectSession();
    void useSession.getState().init();
  }, []);

  useEffect(() => {
    if (!ready) return;
    void useServerHistory.getState().probe();
    void useMetricCatalogue.getState().load();
    void useFleet.getState().probe();
  }, [ready]);

  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  useLiveConnections(ready, token);

  // The dashboard's GPU, view and range follow its URL while it is open.
  useEffect(() => (showsMonitor(path) ? syncUrlWithPreferences(usePreferences) : undefined), [path]);

  const [helpOpen, setHelpOpen] = useState(false);
  const toggleHelp = useCallback(() => setHelpOpen((open) => !open), []);
  useKeyboardShortcuts(ready, toggleHelp);

  if (status === 'checking') {
    return (
      <p className="muted checking" role="status">
        Connecting to GPU Sentinel…
      </p>
    );
  }
  if (status === 'login') {
    return (
      <main id="main">
        <LoginPage />
      </main>
    );
  }

  const alerts: NavItem = { path: ALERTS_PATH, label: 'Alerts', badge: firing };
  const items = [DASHBOARD, ...(hub ? [FLEET] : []), PROCESSES, ...(serverHistory ? [USAGE] : []), alerts];
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <NavBar items={items} currentPath={path} />
      <main id="main" tabIndex={-1}>
        {isDashboardPath(path) ? (
          <SystemMonitor />
        ) : path === USAGE.path && serverHistory !== false ? (
          <UsageView />
        ) : isFleetPath(path) && hub !== false ? (
          <FleetPage path={path} />
        ) : path === PROCESSES.path ? (
          <ProcessesPage />
        ) : path === ALERTS_PATH ? (
          <AlertsPage />
        ) : path === '/login' ? (
          <LoginPage optional onDone={() => navigate(ALERTS_PATH)} />
        ) : (
          <NotFound />
        )}
      </main>
      <Toasts />
      {helpOpen && <ShortcutsHelp onClose={() => setHelpOpen(false)} />}
    </>
  );
}
