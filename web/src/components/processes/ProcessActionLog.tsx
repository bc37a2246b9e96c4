import { useEffect } from 'react';
import { useProcessActions } from '../../stores/processActions';
import { Panel } from '../SystemMonitor/Panel';
import { TableScroll } from '../layout/TableScroll';

/** Other admins act too: their entries appear within this long. */
const LOG_REFRESH_MS = 15_000;

const OUTCOME_TONE: Record<string, string> = {
  terminated: 'ok',
  killed: 'warn',
  kill_sent: 'warn',
  paused: 'ok',
  resumed: 'ok',
  refused: 'critical',
  denied: 'critical',
  gone: 'warn',
};

function when(timestamp: number): string {
  return new Date(timestamp * 1000).toLocaleString(undefined, { hour12: false });
}

/** The audit trail: who terminated, paused or resumed which process, and what came of it. */
export function ProcessActionLog() {
  const log = useProcessActions((state) => state.log);
  const error = useProcessActions((state) => state.logError);
  const enabled = useProcessActions((state) => state.enabled);
  useEffect(() => {
    const refresh = () => void useProcessActions.getState().refresh();
    refresh();
    const timer = setInterval(refresh, LOG_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <Panel title="Process actions" testId="process-action-log" level={2}>
      {enabled === false && (
        <p className="muted" data-testid="process-actions-off">
          Process actions are turned off on this server (GPU_SENTINEL_PROCESS_ACTIONS).
        </p>
      )}
      {error && <p className="form-error">{error}</p>}
      {log.length === 0 ? (
        <p className="faint">No process has been terminated, paused or resumed.</p>
      ) : (
        <TableScroll label="Process actions">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">By</th>
                <th scope="col">Action</th>
                <th scope="col">Process</th>
                <th scope="col">Owner</th>
                <th scope="col">GPU</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {log.map((entry) => (
                <tr key={`${entry.timestamp}-${entry.pid}-${entry.action}`} data-testid="process-action-entry">
                  <td className="mono">{when(entry.timestamp)}</td>
                  <td>{entry.user ?? <span className="na">N/A</span>}</td>
                  <td>{entry.action}</td>
                  <td>
                    {entry.process_name ?? 'unknown'} <span className="mono faint">({entry.pid})</span>
                  </td>
                  <td>{entry.process_user ?? <span className="na">N/A</span>}</td>
                  <td className="num">{entry.gpu_ids.length ? entry.gpu_ids.join(', ') : '–'}</td>
                  <td title={entry.detail}>
                    <span className={`outcome outcome-${OUTCOME_TONE[entry.outcome] ?? 'warn'}`}>{entry.outcome}</span>{' '}
                    <span className="faint">{entry.detail}</span>
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
