import { useEffect, useState } from 'react';
import { historyApi, type GPUUsage, type OwnerUsage, type UsageResponse, type UserUsage } from '../../api/history';
import type { TimeRange } from '../../types/system';
import { errorMessage } from '../../utils/errors';
import { MetricValue } from '../SystemMonitor/MetricValue';
import { Panel } from '../SystemMonitor/Panel';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';

export const USAGE_RANGES: TimeRange[] = ['24h', '7d', '30d'];
/** Usage accrues by the minute: read it again this often while the page is open and visible. */
export const USAGE_REFRESH_MS = 30_000;

function formatUpdated(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

type UserKey = 'user' | 'nodes' | 'gpu_ids' | 'processes' | 'hours' | 'gpu_hours' | 'energy_kwh' | 'peak_memory_gb';
type GPUKey = 'node' | 'gpu_id' | 'hours' | 'gpu_hours' | 'avg_utilization' | 'energy_kwh' | 'peak_power_watts' | 'peak_memory_gb';

type OwnerKey = 'id' | 'nodes' | 'processes' | 'hours' | 'gpu_hours' | 'energy_kwh' | 'peak_memory_gb';

const USER_COLUMNS: SortColumn<UserKey>[] = [
  { key: 'user', label: 'User', numeric: false },
  { key: 'nodes', label: 'Nodes', numeric: false },
  { key: 'gpu_ids', label: 'GPUs', numeric: false },
  { key: 'processes', label: 'Processes', numeric: true },
  { key: 'hours', label: 'Process-hours', numeric: true },
  { key: 'gpu_hours', label: 'GPU-hours', numeric: true },
  { key: 'energy_kwh', label: 'Energy', numeric: true },
  { key: 'peak_memory_gb', label: 'Peak memory', numeric: true },
];

const GPU_COLUMNS: SortColumn<GPUKey>[] = [
  { key: 'node', label: 'Node', numeric: false },
  { key: 'gpu_id', label: 'GPU', numeric: false },
  { key: 'hours', label: 'Hours sampled', numeric: true },
  { key: 'gpu_hours', label: 'GPU-hours', numeric: true },
  { key: 'avg_utilization', label: 'Mean utilization', numeric: true },
  { key: 'energy_kwh', label: 'Energy', numeric: true },
  { key: 'peak_power_watts', label: 'Peak power', numeric: true },
  { key: 'peak_memory_gb', label: 'Peak memory', numeric: true },
];

const ownerColumns = (label: string): SortColumn<OwnerKey>[] => [
  { key: 'id', label, numeric: false },
  { key: 'nodes', label: 'Nodes', numeric: false },
  { key: 'processes', label: 'Processes', numeric: true },
  { key: 'hours', label: 'Process-hours', numeric: true },
  { key: 'gpu_hours', label: 'GPU-hours', numeric: true },
  { key: 'energy_kwh', label: 'Energy', numeric: true },
  { key: 'peak_memory_gb', label: 'Peak memory', numeric: true },
];

const userValue = (user: UserUsage, key: UserKey): unknown =>
  key === 'gpu_ids' || key === 'nodes' ? user[key].join(',') : user[key];
const gpuValue = (gpu: GPUUsage, key: GPUKey): unknown => gpu[key];
const ownerValue = (owner: OwnerUsage, key: OwnerKey): unknown => (key === 'nodes' ? owner.nodes.join(',') : owner[key]);

function UserName({ user }: { user: string | null }) {
  return user ? <span>{user}</span> : <span className="na">unknown</span>;
}

interface UsageState {
  usage: UsageResponse | null;
  /** When the figures on screen were read. */
  updated: Date | null;
  error: string | null;
}

/**
 * Usage over a range, of this server or (`node="all"`) of every node of the fleet. It refreshes itself
 * in place while the page is visible, so tables keep their sort and scroll; a failed refresh keeps the
 * last figures, with their time, under the error.
 */
export function useUsage(range: TimeRange, node?: string): UsageState {
  const [usage, setUsage] = useState<UsageResponse | null>(null);
  const [updated, setUpdated] = useState<Date | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    const read = () =>
      historyApi
        .getUsage(range, controller.signal, node)
        .then((answer) => {
          setUsage(answer);
          setUpdated(new Date());
          setError(null);
        })
        .catch((caught: unknown) => {
          if (!controller.signal.aborted) setError(errorMessage(caught));
        });
    void read();
    const timer = setInterval(() => {
      if (document.visibilityState !== 'hidden') void read();
    }, USAGE_REFRESH_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [range, node]);
  return { usage, updated, error };
}

export function UsageUpdated({ updated }: { updated: Date | null }) {
  if (!updated) return null;
  return (
    <span className="faint usage-updated" data-testid="usage-updated" aria-live="off">
      Updated <time dateTime={updated.toISOString()}>{formatUpdated(updated)}</time>
    </span>
  );
}

export function UsageRangePicker({ range, onChange }: { range: TimeRange; onChange: (range: TimeRange) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Usage range" data-testid="usage-range">
      {USAGE_RANGES.map((option) => (
        <button key={option} type="button" aria-pressed={option === range} onClick={() => onChange(option)}>
          {option}
        </button>
      ))}
    </div>
  );
}

/** The figures a user's and an owner's row end with, in their columns' order. */
function UsageFigures({ row }: { row: Pick<UserUsage, 'hours' | 'gpu_hours' | 'energy_kwh' | 'peak_memory_gb'> }) {
  return (
    <>
      <td className="num">
        <MetricValue value={row.hours} format="number" decimals={2} unit="h" />
      </td>
      <td className="num">
        <MetricValue value={row.gpu_hours} format="number" decimals={2} unit="h" />
      </td>
      <td className="num">
        <MetricValue value={row.energy_kwh} format="number" decimals={3} unit="kWh" />
      </td>
      <td className="num">
        <MetricValue value={row.peak_memory_gb} format="memory" />
      </td>
    </>
  );
}

/** Containers or SLURM jobs with what their processes used; shown only where there are any. */
function OwnerPanel({
  title,
  label,
  owners,
  level,
  testId,
  fleet,
}: {
  title: string;
  label: string;
  owners: OwnerUsage[];
  level: 2 | 3;
  testId: string;
  fleet: boolean;
}) {
  const { sort, sortBy } = useSort<OwnerKey>({ key: 'gpu_hours', direction: 'descending' });
  if (owners.length === 0) return null;
  return (
    <Panel level={level} title={title} testId={testId}>
      <TableScroll label={`Usage per ${label.toLowerCase()}`}>
        <table>
          <thead>
            <tr>
              {ownerColumns(label)
                .filter((column) => fleet || column.key !== 'nodes')
                .map((column) => (
                  <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
                ))}
            </tr>
          </thead>
          <tbody>
            {sortRows(owners, ownerValue, sort).map((owner) => (
              <tr key={owner.id} data-testid={`${testId}-row`}>
                <td className="mono" title={owner.id}>
                  {owner.id.length > 16 ? owner.id.slice(0, 12) : owner.id}
                </td>
                {fleet && <td>{owner.nodes.join(', ')}</td>}
                <td className="num mono">{owner.processes}</td>
                <UsageFigures row={owner} />
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </Panel>
  );
}

/** The usage tables: per user, container, job and GPU. Across a fleet every row also names its nodes. */
export function UsageTables({ usage, fleet = false, level = 2 }: { usage: UsageResponse; fleet?: boolean; level?: 2 | 3 }) {
  const userSort = useSort<UserKey>({ key: 'gpu_hours', direction: 'descending' });
  const gpuSort = useSort<GPUKey>({ key: fleet ? 'node' : 'gpu_id', direction: 'ascending' });
  const userColumns = fleet ? USER_COLUMNS : USER_COLUMNS.filter((column) => column.key !== 'nodes');
  const gpuColumns = fleet ? GPU_COLUMNS : GPU_COLUMNS.filter((column) => column.key !== 'node');
  return (
    <div className="grid" style={{ gap: 16 }}>
      <Panel level={level} title="Per user" testId="usage-users">
        {usage.users.length === 0 ? (
          <p className="faint">No GPU processes were seen in this range.</p>
        ) : (
          <TableScroll label="Usage per user">
            <table>
              <thead>
                <tr>
                  {userColumns.map((column) => (
                    <SortableHeader key={column.key} column={column} sort={userSort.sort} onSort={userSort.sortBy} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {sortRows(usage.users, userValue, userSort.sort).map((user) => (
                  <tr key={user.user ?? '(unknown)'} data-testid="usage-user-row">
                    <td>
                      <UserName user={user.user} />
                    </td>
                    {fleet && <td>{user.nodes.join(', ')}</td>}
                    <td className="mono">{user.gpu_ids.join(', ')}</td>
                    <td className="num mono">{user.processes}</td>
                    <UsageFigures row={user} />
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )}
      </Panel>
      <OwnerPanel title="Per container" label="Container" owners={usage.containers} level={level} testId="usage-containers" fleet={fleet} />
      <OwnerPanel title="Per SLURM job" label="Job" owners={usage.jobs} level={level} testId="usage-jobs" fleet={fleet} />
      <Panel level={level} title="Per GPU" testId="usage-gpus">
        <TableScroll label="Usage per GPU">
          <table>
            <thead>
              <tr>
                {gpuColumns.map((column) => (
                  <SortableHeader key={column.key} column={column} sort={gpuSort.sort} onSort={gpuSort.sortBy} />
                ))}
              </tr>
            </thead>
            <tbody>
              {sortRows(usage.gpus, gpuValue, gpuSort.sort).map((gpu) => (
                <tr key={`${gpu.node}:${gpu.gpu_id}`} data-testid="usage-gpu-row">
                  {fleet && <td>{gpu.node}</td>}
                  <td>
                    {gpu.gpu_id} · {gpu.name ?? 'GPU'}
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.hours} format="number" decimals={2} unit="h" />
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.gpu_hours} format="number" decimals={2} unit="h" />
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.avg_utilization} format="percent" />
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.energy_kwh} format="number" decimals={3} unit="kWh" />
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.peak_power_watts} format="power" decimals={0} />
                  </td>
                  <td className="num">
                    <MetricValue value={gpu.peak_memory_gb} format="memory" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </Panel>
    </div>
  );
}

export function UsageUnavailable({ error }: { error: string }) {
  return (
    <div className="banner banner-general" role="alert">
      <div>
        <div className="banner-title">Usage unavailable</div>
        <div className="banner-message">{error}</div>
      </div>
    </div>
  );
}

/** GPU-hours and energy per GPU, user, container and job, from server history. */
export function UsageView() {
  const [range, setRange] = useState<TimeRange>('24h');
  const { usage, updated, error } = useUsage(range);
  return (
    <>
      <header className="monitor-header">
        <h1>Usage</h1>
        <UsageRangePicker range={range} onChange={setRange} />
        <UsageUpdated updated={updated} />
      </header>
      {error && <UsageUnavailable error={error} />}
      {usage && <UsageTables usage={usage} />}
    </>
  );
}
