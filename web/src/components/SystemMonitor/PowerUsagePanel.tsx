import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { getPowerLevel, isValidMetric, percentOf, THRESHOLDS } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

export const PowerUsagePanel = memo(function PowerUsagePanel({ gpu }: { gpu: GPUMetrics }) {
  const { current_watts, max_watts } = gpu.power;
  const percent = isValidMetric(gpu.power.usage_percent)
    ? gpu.power.usage_percent
    : percentOf(current_watts, max_watts);
  const energyKwh = isValidMetric(gpu.power.energy_joules) ? gpu.power.energy_joules / 3.6e6 : null;
  return (
    <Panel title="Power" testId="panel-power">
      <div className="big-value" data-testid="gpu-power">
        <MetricValue value={current_watts} format="power" />
      </div>
      <ProgressBar percent={percent} level={getPowerLevel(percent)} label="Power draw of limit" />
      <MetricRow label="Limit">
        <MetricValue value={max_watts} format="power" decimals={0} />
      </MetricRow>
      <MetricRow label="Of limit">
        <MetricValue value={percent} format="percent" />
      </MetricRow>
      <MetricRow label="Energy since driver load">
        <MetricValue value={energyKwh} format="number" decimals={3} unit="kWh" />
      </MetricRow>
      {isValidMetric(percent) && percent >= THRESHOLDS.power.warn && (
        <MetricWarning message={`Near power limit: ${percent.toFixed(0)} %`} severity="warning" />
      )}
    </Panel>
  );
});
