import { useEffect, useState } from 'react';
import { isAdmin, useSession } from '../../auth/session';
import { onAlertEvent } from '../../stream/alertEvents';
import { useAlertsStore } from '../../stores/alertsStore';
import { ActiveAlertsPanel } from './ActiveAlertsPanel';
import { AlertHistoryPanel } from './AlertHistoryPanel';
import { NotificationToggle } from './NotificationToggle';
import { RulesPanel } from './RulesPanel';
import { SilencesPanel } from './SilencesPanel';

/** Active alerts, rules, history and silences; changes are offered to admins only. */
export function AlertsPage() {
  const canEdit = isAdmin(useSession((state) => state.identity));
  const refreshActive = useAlertsStore((state) => state.refreshActive);
  // Each live alert event makes the history one row longer.
  const [historyKey, setHistoryKey] = useState(0);

  useEffect(() => {
    void refreshActive();
    return onAlertEvent(() => setHistoryKey((key) => key + 1));
  }, [refreshActive]);

  return (
    <div className="alerts-page" data-testid="alerts-page">
      <header className="monitor-header">
        <h1>Alerts</h1>
        <div className="header-actions">
          <NotificationToggle />
        </div>
      </header>
      <div className="section">
        <ActiveAlertsPanel canEdit={canEdit} />
      </div>
      <div className="section">
        <RulesPanel canEdit={canEdit} />
      </div>
      <div className="section">
        <SilencesPanel canEdit={canEdit} />
      </div>
      <div className="section">
        <AlertHistoryPanel refreshKey={historyKey} />
      </div>
    </div>
  );
}
