import { useState } from 'react';
import { alertsApi } from '../../api/alerts';
import { fleetApi } from '../../api/fleet';
import { useAlertsStore } from '../../stores/alertsStore';
import { Panel } from '../SystemMonitor/Panel';
import { ActionError, describeActionError } from './ActionError';
import { SeverityBadge, formatTime, formatValue } from './format';
import { SEVERITIES, type ActiveAlert } from '../../types/alerts';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';

type AlertKey = 'severity' | 'rule_name' | 'gpu_id' | 'state' | 'value' | 'active_since';

const ALERT_COLUMNS: SortColumn<AlertKey>[] = [
  { key: 'severity', label: 'Severity', numeric: true },
  { key: 'rule_name', label: 'Rule', numeric: false },
  { key: 'gpu_id', label: 'Where', numeric: false },
  { key: 'state', label: 'State', numeric: false },
  { key: 'value', label: 'Value', numeric: true },
  { key: 'active_since', label: 'Since', numeric: false },
];

function alertValue(alert: ActiveAlert, key: AlertKey): unknown {
  if (key === 'severity') return SEVERITIES.indexOf(alert.severity);
  if (key === 'gpu_id') return alert.node === undefined ? (alert.gpu_id ?? -1) : where(alert); // the host first, nodes after
  return alert[key];
}

/** The host or a GPU of this server; for a fleet alert, a node or a GPU of it; for a node's own, its host or a GPU. */
export function where(alert: ActiveAlert): string {
  if (alert.node === undefined) return alert.gpu_id === null ? 'Host' : `GPU ${alert.gpu_id}`;
  if (alert.gpu_id !== null) return `${alert.node} GPU ${alert.gpu_id}`;
  return alert.source === 'node' ? `${alert.node} host` : `Node ${alert.node}`;
}

export function ActiveAlertsPanel({ canEdit }: { canEdit: boolean }) {
  const active = useAlertsStore((state) => state.active);
  const loadError = useAlertsStore((state) => state.activeError);
  const refresh = useAlertsStore((state) => state.refreshActive);
  const [error, setError] = useState<string | null>(null);
  const { sort, sortBy } = useSort<AlertKey>({ key: 'severity', direction: 'descending' });

  const acknowledge = async (alert: ActiveAlert) => {
    setError(null);
    try {
      await (alert.node === undefined ? alertsApi.acknowledge(alert.id) : fleetApi.acknowledgeAlert(alert.id));
      await refresh();
    } catch (failure) {
      setError(describeActionError(failure));
    }
  };

  return (
    <Panel level={2} title={`Active alerts (${active.length})`} testId="active-alerts">
      <ActionError error={error ?? loadError} />
      {active.length === 0 ? (
        <p className="muted" data-testid="no-active-alerts">
          Nothing is pending or firing.
        </p>
      ) : (
        <TableScroll label="Active alerts">
          <table>
            <thead>
              <tr>
                {ALERT_COLUMNS.map((column) => (
                  <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
                ))}
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sortRows(active, alertValue, sort).map((alert) => (
                <tr key={alert.id} data-testid="active-alert" data-alert-id={alert.id} data-state={alert.state}>
                  <td>
                    <SeverityBadge severity={alert.severity} />
                  </td>
                  <td>{alert.rule_name}</td>
                  <td>{where(alert)}</td>
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
                        <button type="button" className="btn btn-small" onClick={() => void acknowledge(alert)}>
                          Acknowledge
                        </button>
                      )
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Panel>
  );
}
