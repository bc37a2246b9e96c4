import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { isValidMetric, levelOf, percentOf } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';
import { useLevelBands } from '../../stores/metricCatalogue';

export const PowerUsagePanel = memo(function PowerUsagePanel({ gpu }: { gpu: GPUMetrics }) {
  const bands = useLevelBands();
  const { current_watts, max_watts } = gpu.power;
  const percent = isValidMetric(gpu.power.usage_percent)
    ? gpu.power.usage_percent
    : percentOf(current_watts, max_watts);
  const level = levelOf(percent, bands.power);
  const energyKwh = isValidMetric(gpu.power.energy_joules) ? gpu.power.energy_joules / 3.6e6 : null;
  return (
    <Panel title="Power" testId="panel-power">
      <div className="big-value" data-testid="gpu-power">
        <MetricValue value={current_watts} format="power" />
      </div>
      <ProgressBar percent={percent} level={level} label="Power draw of limit" />
      <MetricRow label={<MetricLabel metricKey="gpu.power_limit_w" />}>
        <MetricValue value={max_watts} format="power" decimals={0} />
      </MetricRow>
      <MetricRow label={<MetricLabel metricKey="gpu.power_limit_pct" />}>
        <MetricValue value={percent} format="percent" />
      </MetricRow>
      <MetricRow label={<MetricLabel metricKey="gpu.energy_j" />}>
        <MetricValue value={energyKwh} format="number" decimals={3} unit="kWh" />
      </MetricRow>
      {isValidMetric(percent) && (level === 'warn' || level === 'critical') && (
        <MetricWarning message={`Near power limit: ${percent.toFixed(0)} %`} severity="warning" />
      )}
    </Panel>
  );
});
