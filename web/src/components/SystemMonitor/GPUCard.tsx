import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import {
  getMemoryLevel,
  getPowerLevel,
  getTemperatureLevel,
  getUtilizationLevel,
  gpuWarnings,
  percentOf,
} from '../../utils/metricHelpers';
import { healthStatus } from './HealthPanel';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow } from './Panel';
import { ProgressBar } from './ProgressBar';

interface GPUCardProps {
  gpu: GPUMetrics;
  selected: boolean;
  onOpen: (gpuId: number) => void;
}

/** One GPU of the compare view; opening it shows that GPU in the single view. */
export const GPUCard = memo(function GPUCard({ gpu, selected, onOpen }: GPUCardProps) {
  const memoryPercent = gpu.memory.used_percent ?? percentOf(gpu.memory.used_gb, gpu.memory.total_gb);
  const powerPercent = gpu.power.usage_percent ?? percentOf(gpu.power.current_watts, gpu.power.max_watts);
  const warnings = gpuWarnings({
    utilization: gpu.utilization.gpu,
    temperature: gpu.temperature,
    memoryPercent,
    powerPercent,
  });
  const status = healthStatus(gpu);
  return (
    <button
      type="button"
      className="panel gpu-card"
      aria-current={selected}
      data-testid="gpu-card"
      data-gpu-id={gpu.gpu_id}
      onClick={() => onOpen(gpu.gpu_id)}
      aria-label={`GPU ${gpu.gpu_id} ${gpu.gpu_name}: open details`}
    >
      <div className="gpu-card-title">
        <strong>
          GPU {gpu.gpu_id} · {gpu.gpu_name}
        </strong>
        <span className={`badge badge-${status.tone}`}>{status.label}</span>
      </div>
      <MetricRow label="Utilization">
        <MetricValue value={gpu.utilization.gpu} format="percent" />
      </MetricRow>
      <ProgressBar percent={gpu.utilization.gpu} level={getUtilizationLevel(gpu.utilization.gpu)} label="Utilization" />
      <MetricRow label="Memory">
        <MetricValue value={gpu.memory.used_gb} format="memory" /> <span className="faint">/</span>{' '}
        <MetricValue value={gpu.memory.total_gb} format="memory" decimals={0} />
      </MetricRow>
      <ProgressBar percent={memoryPercent} level={getMemoryLevel(memoryPercent)} label="Memory used" />
      <MetricRow label="Temperature">
        <span className={`text-${getTemperatureLevel(gpu.temperature)}`}>
          <MetricValue value={gpu.temperature} format="temperature" decimals={0} />
        </span>
      </MetricRow>
      <MetricRow label="Power">
        <MetricValue value={gpu.power.current_watts} format="power" decimals={0} /> <span className="faint">/</span>{' '}
        <MetricValue value={gpu.power.max_watts} format="power" decimals={0} />
      </MetricRow>
      <ProgressBar percent={powerPercent} level={getPowerLevel(powerPercent)} label="Power of limit" />
      <MetricRow label="Fan">
        <MetricValue value={gpu.fan_speed} format="percent" decimals={0} />
      </MetricRow>
      {warnings.map((warning) => (
        <MetricWarning key={warning.message} message={warning.message} severity={warning.severity} />
      ))}
    </button>
  );
});
