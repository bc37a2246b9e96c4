import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { formatBytesPerSecond, isValidMetric, percentOf } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

function ClockRow({ label, current, max }: { label: string; current: number | null; max: number | null }) {
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

/** Clocks, PCIe link and the video engines (spec 003 §2.3). */
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
          <ClockRow label="Graphics clock" current={gpu.clocks.gpu_mhz} max={gpu.clocks.gpu_max_mhz} />
          <ClockRow label="Memory clock" current={gpu.clocks.memory_mhz} max={gpu.clocks.memory_max_mhz} />
        </div>
        <div>
          <MetricRow label="PCIe link" testId="pcie-link">
            {link ? <span className="mono">{link}</span> : <span className="na">N/A</span>}
            {maxLink && maxLink !== link && <span className="faint"> (max {maxLink})</span>}
          </MetricRow>
          <MetricRow label="PCIe bandwidth">
            <MetricValue value={pcie.bandwidth_gbps} format="number" decimals={2} unit="GB/s" />
          </MetricRow>
          <MetricRow label="PCIe TX / RX">
            <span className="mono">
              {formatBytesPerSecond(pcie.tx_mb_per_s)} / {formatBytesPerSecond(pcie.rx_mb_per_s)}
            </span>
          </MetricRow>
          <MetricRow label="Encoder">
            <MetricValue value={gpu.encoder_utilization} format="percent" decimals={0} />
          </MetricRow>
          <MetricRow label="Decoder">
            <MetricValue value={gpu.decoder_utilization} format="percent" decimals={0} />
          </MetricRow>
        </div>
      </div>
    </Panel>
  );
});
