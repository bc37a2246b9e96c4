import { memo, useMemo } from 'react';
import type { GPUProcess } from '../../types/system';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { Panel } from './Panel';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';
import { ProcessActionButtons, ProcessActionResult, useCanActOnProcesses } from '../processes/ProcessActionButtons';

type SortKey =
  | 'pid'
  | 'process_name'
  | 'user'
  | 'kind'
  | 'gpu_instance_id'
  | 'gpu_memory_mb'
  | 'host_memory_mb'
  | 'cpu_percent';

const COLUMNS: SortColumn<SortKey>[] = [
  { key: 'pid', label: 'PID', numeric: true },
  { key: 'process_name', label: 'Process', numeric: false },
  { key: 'user', label: 'User', numeric: false },
  { key: 'kind', label: 'Type', numeric: false },
  { key: 'gpu_instance_id', label: 'MIG instance', numeric: true },
  { key: 'gpu_memory_mb', label: 'GPU memory', numeric: true },
  { key: 'host_memory_mb', label: 'Host memory', numeric: true },
  { key: 'cpu_percent', label: 'CPU', numeric: true },
];

const processValue = (process: GPUProcess, key: SortKey): unknown => process[key];

/** One GPU's processes; polled ones do not name their GPU, so `gpuId` does (for the confirmation). */
export const GPUProcessesPanel = memo(function GPUProcessesPanel({
  processes,
  gpuId,
}: {
  processes: GPUProcess[];
  gpuId: number;
}) {
  const { sort, sortBy } = useSort<SortKey>({ key: 'gpu_memory_mb', direction: 'descending' });
  const sorted = useMemo(() => sortRows(processes, processValue, sort), [processes, sort]);
  // The MIG column only where some process runs on a MIG device.
  const onMig = processes.some((process) => process.gpu_instance_id != null);
  const columns = onMig ? COLUMNS : COLUMNS.filter((column) => column.key !== 'gpu_instance_id');
  const canAct = useCanActOnProcesses();

  return (
    <Panel title={`GPU processes (${processes.length})`} testId="panel-processes">
      {canAct && <ProcessActionResult />}
      {processes.length === 0 ? (
        <p className="faint">No processes are using this GPU.</p>
      ) : (
        <TableScroll label="GPU processes">
          <table>
            <thead>
              <tr>
                {columns.map((column) => (
                  <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
                ))}
                {canAct && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {sorted.map((process) => (
                <tr key={`${process.pid}-${process.kind ?? ''}`} data-testid="process-row">
                  <td className="num mono">{process.pid}</td>
                  <td>{process.process_name}</td>
                  <td>{process.user ?? <span className="na">N/A</span>}</td>
                  <td>{process.kind ?? <span className="na">N/A</span>}</td>
                  {onMig && (
                    <td className="num mono" data-testid="process-mig">
                      {process.gpu_instance_id != null ? (
                        `GI ${process.gpu_instance_id} · CI ${process.compute_instance_id ?? 'N/A'}`
                      ) : (
                        <span className="na">N/A</span>
                      )}
                    </td>
                  )}
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
                  {canAct && (
                    <td>
                      <ProcessActionButtons process={{ ...process, gpu_id: process.gpu_id ?? gpuId }} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Panel>
  );
});
