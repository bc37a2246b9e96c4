import { memo } from 'react';
import type { MIGInstance } from '../../types/system';
import { useLevelBands } from '../../stores/metricCatalogue';
import { levelOf, percentOf } from '../../utils/metricHelpers';
import { MetricLabel } from './MetricLabel';
import { MetricValue } from './MetricValue';
import { Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

function memoryPercent(instance: MIGInstance): number | null {
  return instance.memory.used_percent ?? percentOf(instance.memory.used_gb, instance.memory.total_gb);
}

function ids(instance: MIGInstance): string {
  const gi = instance.gpu_instance_id ?? 'N/A';
  const ci = instance.compute_instance_id ?? 'N/A';
  return `GI ${gi} · CI ${ci}`;
}

/** One MIG device in a line: profile, instance ids, memory bar and SM activity (N/A without GPM). */
function InstanceRow({ instance }: { instance: MIGInstance }) {
  const percent = memoryPercent(instance);
  const bands = useLevelBands();
  const profile = instance.profile ?? 'MIG device';
  const pids = instance.pids ?? [];
  return (
    <li className="mig-instance" data-testid="mig-instance" data-gpu-instance-id={instance.gpu_instance_id ?? ''}>
      <div className="mig-instance-head">
        <span className="mono" data-testid="mig-profile">
          {profile}
        </span>
        <span className="faint">{ids(instance)}</span>
        <span className="faint" data-testid="mig-processes" title={pids.join(', ')}>
          {pids.length} {pids.length === 1 ? 'process' : 'processes'}
        </span>
      </div>
      <div className="metric-row">
        <span className="metric-label">
          <MetricLabel metricKey="mig.memory_used_bytes" />
        </span>
        <span>
          <MetricValue value={instance.memory.used_gb} format="memory" /> <span className="faint">/</span>{' '}
          <MetricValue value={instance.memory.total_gb} format="memory" decimals={0} />
        </span>
      </div>
      <ProgressBar percent={percent} level={levelOf(percent, bands.gpuMemory)} label={`${profile} memory used`} />
      <div className="metric-row">
        <span className="metric-label">
          <MetricLabel metricKey="mig.sm_active_pct" />
        </span>
        <span data-testid="mig-sm-active">
          <MetricValue value={instance.profiling.sm_active_pct} format="percent" />
        </span>
      </div>
      <ProgressBar
        percent={instance.profiling.sm_active_pct}
        level={levelOf(instance.profiling.sm_active_pct, bands.gpuUtilization)}
        label={`${profile} SM active`}
      />
    </li>
  );
}

/** The MIG devices of a GPU in MIG mode, compact enough for a GPU card. */
export const MIGInstanceList = memo(function MIGInstanceList({ instances }: { instances: MIGInstance[] }) {
  if (instances.length === 0) return null;
  return (
    <ul className="mig-instances" aria-label="MIG instances" data-testid="mig-instances">
      {instances.map((instance) => (
        <InstanceRow key={instance.uuid ?? instance.index} instance={instance} />
      ))}
    </ul>
  );
});

/** The single-GPU view's panel: each MIG device with its processes; shown only in MIG mode. */
export const MIGInstancesPanel = memo(function MIGInstancesPanel({ instances }: { instances: MIGInstance[] }) {
  if (instances.length === 0) return null;
  return (
    <Panel title={`MIG instances (${instances.length})`} testId="panel-mig">
      <p className="faint">
        NVML reports no utilization per MIG instance; SM activity (GPM) shows how busy each one is.
      </p>
      <MIGInstanceList instances={instances} />
    </Panel>
  );
});
