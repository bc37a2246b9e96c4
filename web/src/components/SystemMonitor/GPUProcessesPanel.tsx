import { memo, useMemo, useState } from 'react';
import type { GPUProcess } from '../../types/system';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { Panel } from './Panel';

type SortKey = 'pid' | 'process_name' | 'user' | 'kind' | 'gpu_memory_mb' | 'host_memory_mb' | 'cpu_percent';
type SortDirection = 'ascending' | 'descending';

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
}

const COLUMNS: Column[] = [
  { key: 'pid', label: 'PID', numeric: true },
  { key: 'process_name', label: 'Process', numeric: false },
  { key: 'user', label: 'User', numeric: false },
  { key: 'kind', label: 'Type', numeric: false },
  { key: 'gpu_memory_mb', label: 'GPU memory', numeric: true },
  { key: 'host_memory_mb', label: 'Host memory', numeric: true },
  { key: 'cpu_percent', label: 'CPU', numeric: true },
];

/** Nulls sort last whatever the direction: a missing value is never "the biggest". */
export function sortProcesses(processes: readonly GPUProcess[], key: SortKey, direction: SortDirection): GPUProcess[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...processes].sort((a, b) => {
    const left = a[key];
    const right = b[key];
    const leftMissing = left === null || left === undefined || (typeof left === 'number' && Number.isNaN(left));
    const rightMissing = right === null || right === undefined || (typeof right === 'number' && Number.isNaN(right));
    if (leftMissing || rightMissing) return Number(leftMissing) - Number(rightMissing);
    if (typeof left === 'number' && typeof right === 'number') return sign * (left - right);
    return sign * String(left).localeCompare(String(right));
  });
}

export const GPUProcessesPanel = memo(function GPUProcessesPanel({ processes }: { processes: GPUProcess[] }) {
  const [sortKey, setSortKey] = useState<SortKey>('gpu_memory_mb');
  const [direction, setDirection] = useState<SortDirection>('descending');
  const sorted = useMemo(() => sortProcesses(processes, sortKey, direction), [processes, sortKey, direction]);

  const sortBy = (key: SortKey, numeric: boolean) => {
    if (key === sortKey) {
      setDirection(direction === 'ascending' ? 'descending' : 'ascending');
    } else {
      setSortKey(key);
      setDirection(numeric ? 'descending' : 'ascending');
    }
  };

  return (
    <Panel title={`GPU processes (${processes.length})`} testId="panel-processes">
      {processes.length === 0 ? (
        <p className="faint">No processes are using this GPU.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                {COLUMNS.map((column) => (
                  <th
                    key={column.key}
                    className={column.numeric ? 'num' : undefined}
                    aria-sort={column.key === sortKey ? direction : 'none'}
                    scope="col"
                  >
                    <button type="button" onClick={() => sortBy(column.key, column.numeric)}>
                      {column.label}
                      <span aria-hidden="true">
                        {column.key === sortKey ? (direction === 'ascending' ? ' ▲' : ' ▼') : ''}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {sorted.map((process) => (
                <tr key={`${process.pid}-${process.kind ?? ''}`} data-testid="process-row">
                  <td className="num mono">{process.pid}</td>
                  <td>{process.process_name}</td>
                  <td>{process.user ?? <span className="na">N/A</span>}</td>
                  <td>{process.kind ?? <span className="na">N/A</span>}</td>
                  <td className="num">
                    <MetricValue
                      value={isValidMetric(process.gpu_memory_mb) ? process.gpu_memory_mb : null}
                      format="number"
                      decimals={0}
                      unit="MB"
                    />
                  </td>
                  <td className="num">
                    <MetricValue value={process.host_memory_mb} format="number" decimals={0} unit="MB" />
                  </td>
                  <td className="num">
                    <MetricValue value={process.cpu_percent} format="percent" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
});
