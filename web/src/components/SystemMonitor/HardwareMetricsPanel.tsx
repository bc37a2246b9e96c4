import { memo } from 'react';
import { useMetricEntry } from '../../stores/metricCatalogue';
import type { GPUMetrics } from '../../types/system';
import { isValidMetric, percentOf } from '../../utils/metricHelpers';
import { MetricField } from './MetricField';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

function ClockRow({ field, current, max }: { field: string; current: number | null; max: number | null }) {
  const label = useMetricEntry('gpu', field)?.label ?? field;
  const percent = percentOf(current, max);
  return (
    <div>
      <MetricRow label={label}>
        <MetricValue value={current} format="clock" decimals={0} /> <span className="faint">/</span>{' '}
        <MetricValue value={max} format="clock" decimals={0} />
      </MetricRow>
      <ProgressBar percent={percent} level={isValidMetric(percent) ? 'ok' : 'unknown'} label={`${label} of max`} />
    </div>
  );
}

/** Clocks, memory the driver keeps, PCIe and NVLink traffic and the video engines (spec 003 §2.3). */
export const HardwareMetricsPanel = memo(function HardwareMetricsPanel({ gpu }: { gpu: GPUMetrics }) {
  const { pcie } = gpu;
  const link =
    isValidMetric(pcie.generation) && isValidMetric(pcie.width) ? `Gen ${pcie.generation} ×${pcie.width}` : null;
  const maxLink =
    isValidMetric(pcie.max_generation) && isValidMetric(pcie.max_width)
      ? `Gen ${pcie.max_generation} ×${pcie.max_width}`
      : null;
  return (
    <Panel title="Hardware" testId="panel-hardware">
      <div className="grid grid-2" style={{ gap: 16 }}>
        <div>
          <ClockRow field="clocks.gpu_mhz" current={gpu.clocks.gpu_mhz} max={gpu.clocks.gpu_max_mhz} />
          <ClockRow field="clocks.memory_mhz" current={gpu.clocks.memory_mhz} max={gpu.clocks.memory_max_mhz} />
          <MetricField field="memory.reserved_gb" source={gpu} />
          <MetricField field="encoder_utilization" source={gpu} />
          <MetricField field="decoder_utilization" source={gpu} />
        </div>
        <div>
          <MetricRow label="PCIe link" testId="pcie-link">
            {link ? <span className="mono">{link}</span> : <span className="na">N/A</span>}
            {maxLink && maxLink !== link && <span className="faint"> (max {maxLink})</span>}
          </MetricRow>
          <MetricField field="pcie.bandwidth_gbps" source={gpu} />
          <MetricField field="pcie.tx_mb_per_s" source={gpu} />
          <MetricField field="pcie.rx_mb_per_s" source={gpu} />
          <MetricField field="pcie.replay_count" source={gpu} />
          <MetricField field="nvlink.tx_mb_per_s" source={gpu} />
          <MetricField field="nvlink.rx_mb_per_s" source={gpu} />
        </div>
      </div>
    </Panel>
  );
});
