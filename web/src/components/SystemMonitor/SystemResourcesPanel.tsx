import { memo } from 'react';
import type { SystemMetrics } from '../../types/system';
import {
  formatBytesPerSecond,
  formatMegabits,
  isValidMetric,
  levelOf,
} from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';
import { useLevelBands } from '../../stores/metricCatalogue';

function CoreGrid({ cores }: { cores: number[] }) {
  const bands = useLevelBands();
  return (
    <div className="cores" aria-label="Per-core utilization">
      {cores.map((value, index) => (
        <div className="core" key={index} title={`Core ${index}: ${value.toFixed(0)} %`}>
          <span className={`level-${levelOf(value, bands.cpu)}`} style={{ transform: `scaleY(${Math.min(100, Math.max(0, value)) / 100})` }} />
        </div>
      ))}
    </div>
  );
}

/** CPU, RAM, swap, network and disk I/O of the host (spec 003 §2.3). */
export const SystemResourcesPanel = memo(function SystemResourcesPanel({ system }: { system: SystemMetrics }) {
  const bands = useLevelBands();
  const { cpu, memory, swap, network, disk_io } = system;
  const load = cpu.load_average;
  return (
    <Panel title="System resources" testId="panel-system-resources">
      <div className="grid grid-2" style={{ gap: 16 }}>
        <div>
          <MetricRow label={<MetricLabel metricKey="host.cpu_pct" />} testId="cpu-usage">
            <MetricValue value={cpu.usage_percent} format="percent" />
          </MetricRow>
          <ProgressBar percent={cpu.usage_percent} level={levelOf(cpu.usage_percent, bands.cpu)} label="CPU usage" />
          <MetricRow label="Cores · frequency">
            <MetricValue value={cpu.core_count} format="number" decimals={0} unit="" />
            <span className="faint"> · </span>
            <MetricValue value={cpu.frequency_mhz} format="clock" decimals={0} />
          </MetricRow>
          {load && load.length === 3 && (
            <MetricRow label="Load 1 / 5 / 15 min">
              <span className="mono">{load.map((value) => value.toFixed(2)).join(' / ')}</span>
            </MetricRow>
          )}
          {cpu.per_core_percent && cpu.per_core_percent.length > 0 && <CoreGrid cores={cpu.per_core_percent} />}
        </div>
        <div>
          <MetricRow label={<MetricLabel metricKey="host.memory_used_bytes" />} testId="ram-usage">
            <MetricValue value={memory.used_gb} format="memory" /> <span className="faint">/</span>{' '}
            <MetricValue value={memory.total_gb} format="memory" />
          </MetricRow>
          <ProgressBar percent={memory.used_percent} level={levelOf(memory.used_percent, bands.ram)} label="RAM used" />
          <MetricRow label={<MetricLabel metricKey="host.memory_available_bytes" />}>
            <MetricValue value={memory.available_gb} format="memory" />
          </MetricRow>
          <MetricRow label={<MetricLabel metricKey="host.swap_used_bytes" />}>
            <MetricValue value={swap.used_gb} format="memory" /> <span className="faint">/</span>{' '}
            <MetricValue value={swap.total_gb} format="memory" />
          </MetricRow>
          {isValidMetric(swap.total_gb) && swap.total_gb > 0 && (
            <ProgressBar percent={swap.used_percent} level={levelOf(swap.used_percent, bands.swap)} label="Swap used" />
          )}
          <MetricRow label="Network ↑ / ↓" testId="network-rates">
            <span className="mono">
              {formatMegabits(network.upload_mbps)} / {formatMegabits(network.download_mbps)}
            </span>
          </MetricRow>
          <MetricRow label="Disk read / write" testId="disk-rates">
            <span className="mono">
              {formatBytesPerSecond(disk_io.read_mbps)} / {formatBytesPerSecond(disk_io.write_mbps)}
            </span>
          </MetricRow>
        </div>
      </div>
    </Panel>
  );
});
