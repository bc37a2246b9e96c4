import { useState } from 'react';
import { alertsApi } from '../../api/alerts';
import { useAlertsStore } from '../../stores/alertsStore';
import { Panel } from '../SystemMonitor/Panel';
import { ActionError, describeActionError } from './ActionError';
import { SeverityBadge, formatTime, formatValue } from './format';

export function ActiveAlertsPanel({ canEdit }: { canEdit: boolean }) {
  const active = useAlertsStore((state) => state.active);
  const loadError = useAlertsStore((state) => state.activeError);
  const refresh = useAlertsStore((state) => state.refreshActive);
  const [error, setError] = useState<string | null>(null);

  const acknowledge = async (alertId: string) => {
    setError(null);
    try {
      await alertsApi.acknowledge(alertId);
      await refresh();
    } catch (failure) {
      setError(describeActionError(failure));
    }
  };

  return (
    <Panel title={`Active alerts (${active.length})`} testId="active-alerts">
      <ActionError error={error ?? loadError} />
      {active.length === 0 ? (
        <p className="muted" data-testid="no-active-alerts">
          Nothing is pending or firing.
        </p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Rule</th>
                <th scope="col">Where</th>
                <th scope="col">State</th>
                <th scope="col">Value</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {active.map((alert) => (
                <tr key={alert.id} data-testid="active-alert" data-alert-id={alert.id} data-state={alert.state}>
                  <td>
                    <SeverityBadge severity={alert.severity} />
                  </td>
                  <td>{alert.rule_name}</td>
                  <td>{alert.gpu_id === null ? 'Host' : `GPU ${alert.gpu_id}`}</td>
                  <td>
                    {alert.state}
                    {alert.silenced && <span className="badge">silenced</span>}
                  </td>
                  <td className="mono">
                    {formatValue(alert.value, alert.unit)} {alert.condition} {formatValue(alert.threshold, alert.unit)}
                  </td>
                  <td>{formatTime(alert.active_since)}</td>
                  <td>
                    {alert.acknowledged ? (
                      <span className="muted">Acknowledged{alert.acknowledged_by ? ` by ${alert.acknowledged_by}` : ''}</span>
                    ) : (
                      canEdit && (
                        <button type="button" className="btn btn-small" onClick={() => void acknowledge(alert.id)}>
                          Acknowledge
                        </button>
                      )
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
