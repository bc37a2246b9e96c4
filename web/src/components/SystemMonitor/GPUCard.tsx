import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { gpuWarnings, levelOf, percentOf } from '../../utils/metricHelpers';
import { healthStatus } from './HealthPanel';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';
import { MIGInstanceList } from './MIGInstances';
import { useLevelBands } from '../../stores/metricCatalogue';

interface GPUCardProps {
  gpu: GPUMetrics;
  selected: boolean;
  onOpen: (gpuId: number) => void;
}

/** One GPU of the compare view; opening it shows that GPU in the single view. */
export const GPUCard = memo(function GPUCard({ gpu, selected, onOpen }: GPUCardProps) {
  const bands = useLevelBands();
  const memoryPercent = gpu.memory.used_percent ?? percentOf(gpu.memory.used_gb, gpu.memory.total_gb);
  const powerPercent = gpu.power.usage_percent ?? percentOf(gpu.power.current_watts, gpu.power.max_watts);
  const warnings = gpuWarnings(
    { utilization: gpu.utilization.gpu, temperature: gpu.temperature, memoryPercent, powerPercent },
    { temperature: bands.temperature, memory: bands.gpuMemory, power: bands.power },
  );
  const status = healthStatus(gpu);
  const titleId = `gpu-card-title-${gpu.gpu_id}`;
  // The whole card opens the GPU for a pointer; the title is the button for keyboards and screen readers,
  // and the values stay readable content rather than being hidden behind the button's name.
  return (
    <article
      className="panel gpu-card"
      aria-labelledby={titleId}
      aria-current={selected || undefined}
      data-testid="gpu-card"
      data-gpu-id={gpu.gpu_id}
      onClick={() => onOpen(gpu.gpu_id)}
    >
      <div className="gpu-card-title">
        <h3 id={titleId}>
          <button
            type="button"
            className="gpu-card-open"
            onClick={(event) => {
              event.stopPropagation();
              onOpen(gpu.gpu_id);
            }}
          >
            GPU {gpu.gpu_id} · {gpu.gpu_name}
          </button>
        </h3>
        <span className={`badge badge-${status.tone}`}>{status.label}</span>
      </div>
      <MetricRow label={<MetricLabel metricKey="gpu.utilization_pct" />}>
        <MetricValue value={gpu.utilization.gpu} format="percent" />
      </MetricRow>
      <ProgressBar percent={gpu.utilization.gpu} level={levelOf(gpu.utilization.gpu, bands.gpuUtilization)} label="Utilization" />
      <MetricRow label={<MetricLabel metricKey="gpu.memory_used_bytes" />}>
        <MetricValue value={gpu.memory.used_gb} format="memory" /> <span className="faint">/</span>{' '}
        <MetricValue value={gpu.memory.total_gb} format="memory" decimals={0} />
      </MetricRow>
      <ProgressBar percent={memoryPercent} level={levelOf(memoryPercent, bands.gpuMemory)} label="Memory used" />
      <MetricRow label={<MetricLabel metricKey="gpu.temperature_c" />}>
        <span className={`text-${levelOf(gpu.temperature, bands.temperature)}`}>
          <MetricValue value={gpu.temperature} format="temperature" decimals={0} />
        </span>
      </MetricRow>
      <MetricRow label={<MetricLabel metricKey="gpu.power_w" />}>
        <MetricValue value={gpu.power.current_watts} format="power" decimals={0} /> <span className="faint">/</span>{' '}
        <MetricValue value={gpu.power.max_watts} format="power" decimals={0} />
      </MetricRow>
      <ProgressBar percent={powerPercent} level={levelOf(powerPercent, bands.power)} label="Power of limit" />
      <MetricRow label={<MetricLabel metricKey="gpu.fan_speed_pct" />}>
        <MetricValue value={gpu.fan_speed} format="percent" decimals={0} />
      </MetricRow>
      {warnings.map((warning) => (
        <MetricWarning key={warning.message} message={warning.message} severity={warning.severity} />
      ))}
      <MIGInstanceList instances={gpu.mig_instances ?? []} />
    </article>
  );
});
