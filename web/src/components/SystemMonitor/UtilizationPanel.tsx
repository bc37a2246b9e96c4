import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { getMemoryLevel, getUtilizationLevel, THRESHOLDS, isValidMetric } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

export const UtilizationPanel = memo(function UtilizationPanel({ gpu }: { gpu: GPUMetrics }) {
  const utilization = gpu.utilization.gpu;
  const memoryPercent = gpu.memory.used_percent;
  return (
    <Panel title="Utilization" testId="panel-utilization">
      <div className={`big-value text-${getUtilizationLevel(utilization)}`} data-testid="gpu-utilization">
        <MetricValue value={utilization} format="percent" />
      </div>
      <ProgressBar percent={utilization} level={getUtilizationLevel(utilization)} label="GPU utilization" />
      <MetricRow label="Memory controller">
        <MetricValue value={gpu.utilization.memory} format="percent" />
      </MetricRow>
      <MetricRow label="Compute">
        <MetricValue value={gpu.utilization.compute} format="percent" />
      </MetricRow>
      <MetricRow label="VRAM">
        <span data-testid="gpu-vram">
          <MetricValue value={gpu.memory.used_gb} format="memory" decimals={2} /> /{' '}
          <MetricValue value={gpu.memory.total_gb} format="memory" decimals={1} />
        </span>
      </MetricRow>
      <ProgressBar percent={memoryPercent} level={getMemoryLevel(memoryPercent)} label="VRAM used" />
      {isValidMetric(utilization) && utilization > THRESHOLDS.utilization.notice && (
        <MetricWarning message="High GPU utilization" severity="info" />
      )}
      {isValidMetric(memoryPercent) && memoryPercent >= THRESHOLDS.memory.warn && (
        <MetricWarning
          message={`High GPU memory usage: ${memoryPercent.toFixed(0)} %`}
          severity={memoryPercent >= THRESHOLDS.memory.critical ? 'critical' : 'warning'}
        />
      )}
    </Panel>
  );
});
