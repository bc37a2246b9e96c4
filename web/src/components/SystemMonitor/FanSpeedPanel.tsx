import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';

export const FanSpeedPanel = memo(function FanSpeedPanel({ gpu }: { gpu: GPUMetrics }) {
  return (
    <Panel title="Fan" testId="panel-fan">
      <div className="big-value" data-testid="gpu-fan">
        <MetricValue value={gpu.fan_speed} format="percent" decimals={0} />
      </div>
      <ProgressBar percent={gpu.fan_speed} level={isValidMetric(gpu.fan_speed) ? 'ok' : 'unknown'} label="Fan speed" />
      <MetricRow label={<MetricLabel metricKey="gpu.pstate" />}>
        {isValidMetric(gpu.pstate) ? <span className="mono">P{gpu.pstate}</span> : <span className="na">N/A</span>}
      </MetricRow>
      {!isValidMetric(gpu.fan_speed) && (
        <p className="faint" style={{ margin: '6px 0 0', fontSize: 12 }}>
          Passively cooled or fan not reported by the driver.
        </p>
      )}
    </Panel>
  );
});
