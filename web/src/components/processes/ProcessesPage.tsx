import { useMemo, useState } from 'react';
import { useLiveData } from '../../stores/liveData';
import type { GPUProcess } from '../../types/system';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricValue } from '../SystemMonitor/MetricValue';
import { Panel } from '../SystemMonitor/Panel';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';
import { ProcessActionButtons, ProcessActionResult, useCanActOnProcesses } from './ProcessActionButtons';
import { ProcessActionLog } from './ProcessActionLog';
import { ProcessHistory } from './ProcessHistory';

type SortKey =
  | 'gpu_id'
  | 'pid'
  | 'process_name'
  | 'user'
  | 'owner'
  | 'status'
  | 'gpu_memory_mb'
  | 'sm_percent'
  | 'memory_util_percent'
  | 'cpu_percent'
  | 'host_memory_mb';

const COLUMNS: SortColumn<SortKey>[] = [
  { key: 'gpu_id', label: 'GPU', numeric: true },
  { key: 'pid', label: 'PID', numeric: true },
  { key: 'process_name', label: 'Process', numeric: false },
  { key: 'user', label: 'User', numeric: false },
  { key: 'owner', label: 'Container / pod / job', numeric: false },
  { key: 'status', label: 'State', numeric: false },
  { key: 'gpu_memory_mb', label: 'GPU memory', numeric: true },
  { key: 'sm_percent', label: 'SM', numeric: true },
  { key: 'memory_util_percent', label: 'Mem BW', numeric: true },
  { key: 'cpu_percent', label: 'CPU', numeric: true },
  { key: 'host_memory_mb', label: 'Host memory', numeric: true },
];

/** Who owns a process, in a few words: its pod, else its container, else its SLURM job. */
export function ownerOf(process: GPUProcess): string | null {
  if (process.pod_name) return `${process.pod_namespace ? `${process.pod_namespace}/` : ''}${process.pod_name}`;
  if (process.pod_uid) return `pod ${process.pod_uid.slice(0, 8)}`;
  if (process.container_id) return `${process.container_runtime ?? 'container'} ${process.container_id.slice(0, 12)}`;
  if (process.slurm_job_id) return `job ${process.slurm_job_id}`;
  return null;
}

const valueOf = (process: GPUProcess, key: SortKey): unknown => (key === 'owner' ? ownerOf(process) : process[key]);

/** A process is one row per GPU it holds a context on. */
const rowKey = (process: GPUProcess): string => `${process.gpu_id ?? ''}-${process.pid}-${process.kind ?? ''}`;

export function matches(process: GPUProcess, query: string): boolean {
  const texts = [String(process.pid), process.process_name, process.user, ownerOf(process), process.container_id, process.slurm_job_id];
  return texts.some((text) => text?.toLowerCase().includes(query));
}

function Selected({ process, canAct }: { process: GPUProcess; canAct: boolean }) {
  return (
    <Panel
      title={`${process.process_name} · PID ${process.pid} · GPU ${process.gpu_id ?? '?'}`}
      testId="process-detail"
      level={2}
      actions={canAct ? <ProcessActionButtons process={process} /> : undefined}
    >
      <p className="muted">
        {process.user ?? 'unknown user'}
        {ownerOf(process) ? ` · ${ownerOf(process)}` : ''}
        {process.started_at ? ` · started ${new Date(process.started_at * 1000).toLocaleString(undefined, { hour12: false })}` : ''}
        {process.status ? ` · ${process.status}` : ''}
      </p>
      <ProcessHistory process={process} />
    </Panel>
  );
}

/** Every GPU process on every GPU, live: nvitop's main view, with history and actions per process. */
export function ProcessesPage() {
  const processes = useLiveData((state) => state.frame?.processes);
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const { sort, sortBy } = useSort<SortKey>({ key: 'gpu_memory_mb', direction: 'descending' });
  const canAct = useCanActOnProcesses();

  const rows = useMemo(() => {
    const wanted = query.trim().toLowerCase();
    const all = processes ?? [];
    return sortRows(wanted ? all.filter((process) => matches(process, wanted)) : all, valueOf, sort);
  }, [processes, query, sort]);
  const chosen = processes?.find((process) => rowKey(process) === selected) ?? null;

  return (
    <div className="processes-page" data-testid="processes-page">
      <header className="monitor-header">
        <h1>GPU processes</h1>
        <div className="header-actions processes-toolbar">
        <label>
          <span className="sr-only">Search processes</span>
          <input
            type="search"
            placeholder="Search PID, name, user, container, pod, job"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            data-testid="process-search"
          />
        </label>
        <span className="muted" role="status">
          {rows.length} of {processes?.length ?? 0} processes
        </span>
        </div>
      </header>
      <ProcessActionResult />
      <div className="section">
      <Panel title="All GPUs" testId="all-processes" level={2}>
        {rows.length === 0 ? (
          <p className="faint">{processes?.length ? 'No process matches the search.' : 'No process is using a GPU.'}</p>
        ) : (
          <TableScroll label="GPU processes on every GPU">
            <table>
              <thead>
                <tr>
                  {COLUMNS.map((column) => (
                    <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
                  ))}
                  {canAct && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((process) => {
                  const key = rowKey(process);
                  return (
                    <tr key={key} data-testid="all-process-row" data-pid={process.pid} data-selected={key === selected}>
                      <td className="num">{process.gpu_id ?? <span className="na">N/A</span>}</td>
                      <td className="num mono">{process.pid}</td>
                      <td>
                        <button
                          type="button"
                          className="link-button"
                          aria-pressed={key === selected}
                          onClick={() => setSelected(key === selected ? null : key)}
                          data-testid="select-process"
                        >
                          {process.process_name}
                        </button>
                      </td>
                      <td>{process.user ?? <span className="na">N/A</span>}</td>
                      <td>{ownerOf(process) ?? <span className="faint">–</span>}</td>
                      <td>{process.status ?? <span className="na">N/A</span>}</td>
                      <td className="num">
                        <MetricValue
                          value={isValidMetric(process.gpu_memory_mb) ? process.gpu_memory_mb : null}
                          format="number"
                          decimals={0}
                          unit="MB"
                        />
                      </td>
                      <td className="num">
                        <MetricValue value={process.sm_percent ?? null} format="percent" />
                      </td>
                      <td className="num">
                        <MetricValue value={process.memory_util_percent ?? null} format="percent" />
                      </td>
                      <td className="num">
                        <MetricValue value={process.cpu_percent} format="percent" />
                      </td>
                      <td className="num">
                        <MetricValue value={process.host_memory_mb ?? null} format="number" decimals={0} unit="MB" />
                      </td>
                      {canAct && (
                        <td>
                          <ProcessActionButtons process={process} />
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableScroll>
        )}
      </Panel>
      </div>
      {chosen && (
        <div className="section">
          <Selected process={chosen} canAct={canAct} />
        </div>
      )}
      <div className="section">
        <ProcessActionLog />
      </div>
    </div>
  );
}
