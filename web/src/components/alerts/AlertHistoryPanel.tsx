import { useEffect, useState } from 'react';
import { alertsApi } from '../../api/alerts';
import { SEVERITIES, type AlertHistoryPage, type AlertSeverity, type AlertState, type HistoryQuery } from '../../types/alerts';
import { Panel } from '../SystemMonitor/Panel';
import { ActionError, describeActionError } from './ActionError';
import { SeverityBadge, formatTime, formatValue } from './format';
import { TableScroll } from '../layout/TableScroll';

const PAGE_SIZE = 25;
const STATES: readonly AlertState[] = ['pending', 'firing', 'resolved', 'inactive'];

export function AlertHistoryPanel({ refreshKey }: { refreshKey: number }) {
  const [query, setQuery] = useState<HistoryQuery>({ limit: PAGE_SIZE, offset: 0 });
  const [page, setPage] = useState<AlertHistoryPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    alertsApi.history(query).then(
      (result) => current && (setPage(result), setError(null)),
      (failure: unknown) => current && setError(describeActionError(failure)),
    );
    return () => {
      current = false;
    };
  }, [query, refreshKey]);

  // A new filter starts again at the first page.
  const filter = (change: Partial<HistoryQuery>) => setQuery({ ...query, ...change, offset: 0 });
  const total = page?.total ?? 0;
  const first = total === 0 ? 0 : query.offset + 1;
  const last = Math.min(total, query.offset + PAGE_SIZE);

  return (
    <Panel level={2} title="History" testId="alert-history">
      <div className="filters">
        <label>
          Rule{' '}
          <input
            placeholder="rule id"
            defaultValue={query.rule_id ?? ''}
            onBlur={(event) => filter({ rule_id: event.target.value.trim() || undefined })}
            onKeyDown={(event) => event.key === 'Enter' && filter({ rule_id: event.currentTarget.value.trim() || undefined })}
          />
        </label>
        <label>
          GPU{' '}
          <input
            inputMode="numeric"
            size={4}
            placeholder="any"
            onChange={(event) => {
              const value = event.target.value.trim();
              filter({ gpu_id: value === '' || !/^\d+$/.test(value) ? undefined : Number(value) });
            }}
          />
        </label>
        <label>
          Severity{' '}
          <select onChange={(event) => filter({ severity: (event.target.value || undefined) as AlertSeverity | undefined })}>
            <option value="">any</option>
            {SEVERITIES.map((severity) => (
              <option key={severity}>{severity}</option>
            ))}
          </select>
        </label>
        <label>
          State{' '}
          <select onChange={(event) => filter({ state: (event.target.value || undefined) as AlertState | undefined })}>
            <option value="">any</option>
            {STATES.map((state) => (
              <option key={state}>{state}</option>
            ))}
          </select>
        </label>
      </div>
      <ActionError error={error} />
      <TableScroll label="Alert history">
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Severity</th>
              <th scope="col">Alert</th>
              <th scope="col">Transition</th>
              <th scope="col">Value</th>
              <th scope="col">Delivery</th>
            </tr>
          </thead>
          <tbody>
            {page?.items.map((item) => (
              <tr key={item.id} data-testid="history-row">
                <td>{formatTime(item.ts)}</td>
                <td>
                  <SeverityBadge severity={item.severity} />
                </td>
                <td title={item.summary}>
                  {item.rule_name} <span className="faint">{item.instance}</span>
                </td>
                <td>
                  {item.previous} → {item.state}
                  {item.suppressed && <span className="faint"> ({item.suppressed})</span>}
                </td>
                <td className="mono">{formatValue(item.value, '')}</td>
                <td>
                  {item.deliveries.length === 0
                    ? '—'
                    : item.deliveries.map((delivery) => `${delivery.channel}: ${delivery.status}`).join(', ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <div className="pager">
        <span className="muted" data-testid="history-range">
          {first}–{last} of {total}
        </span>
        <button
          type="button"
          className="btn btn-small"
          disabled={query.offset === 0}
          onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - PAGE_SIZE) })}
        >
          Newer
        </button>
        <button
          type="button"
          className="btn btn-small"
          disabled={last >= total}
          onClick={() => setQuery({ ...query, offset: query.offset + PAGE_SIZE })}
        >
          Older
        </button>
      </div>
    </Panel>
  );
}
