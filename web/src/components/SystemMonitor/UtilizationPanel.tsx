import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { HIGH_UTILIZATION_NOTICE_PCT, isValidMetric, levelOf } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';
import { useLevelBands } from '../../stores/metricCatalogue';

export const UtilizationPanel = memo(function UtilizationPanel({ gpu }: { gpu: GPUMetrics }) {
  const bands = useLevelBands();
  const utilization = gpu.utilization.gpu;
  const memoryPercent = gpu.memory.used_percent;
  const memoryLevel = levelOf(memoryPercent, bands.gpuMemory);
  return (
    <Panel title="Utilization" testId="panel-utilization">
      <div className={`big-value text-${levelOf(utilization, bands.gpuUtilization)}`} data-testid="gpu-utilization">
        <MetricValue value={utilization} format="percent" />
      </div>
      <ProgressBar percent={utilization} level={levelOf(utilization, bands.gpuUtilization)} label="GPU utilization" />
      <MetricRow label={<MetricLabel metricKey="gpu.memory_utilization_pct" />}>
        <MetricValue value={gpu.utilization.memory} format="percent" />
      </MetricRow>
      <MetricRow label="Compute">
        <MetricValue value={gpu.utilization.compute} format="percent" />
      </MetricRow>
      <MetricRow label={<MetricLabel metricKey="gpu.memory_used_bytes" />}>
        <span data-testid="gpu-vram">
          <MetricValue value={gpu.memory.used_gb} format="memory" decimals={2} /> /{' '}
          <MetricValue value={gpu.memory.total_gb} format="memory" decimals={1} />
        </span>
      </MetricRow>
      <ProgressBar percent={memoryPercent} level={memoryLevel} label="VRAM used" />
      {isValidMetric(utilization) && utilization > HIGH_UTILIZATION_NOTICE_PCT && (
        <MetricWarning message="High GPU utilization" severity="info" />
      )}
      {isValidMetric(memoryPercent) && (memoryLevel === 'warn' || memoryLevel === 'critical') && (
        <MetricWarning
          message={`High GPU memory usage: ${memoryPercent.toFixed(0)} %`}
          severity={memoryLevel === 'critical' ? 'critical' : 'warning'}
        />
      )}
    </Panel>
  );
});
