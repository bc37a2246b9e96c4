import { memo } from 'react';
import type { GPUInfo, GPUMetrics, SystemMetrics } from '../../types/system';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';

function Text({ value }: { value: string | null | undefined }) {
  return value ? <span className="mono">{value}</span> : <span className="na">N/A</span>;
}

interface SystemInformationPanelProps {
  info: GPUInfo | undefined;
  gpu: GPUMetrics;
  system: SystemMetrics | null;
}

/** Static facts about the GPU and its host. */
export const SystemInformationPanel = memo(function SystemInformationPanel({
  info,
  gpu,
  system,
}: SystemInformationPanelProps) {
  return (
    <Panel title="System information" testId="panel-system-info">
      <div className="grid grid-2" style={{ gap: 16 }}>
        <div>
          <MetricRow label="GPU">
            <span>{info?.name ?? gpu.gpu_name}</span>
          </MetricRow>
          <MetricRow label="Index">
            <span className="mono">{gpu.gpu_id}</span>
          </MetricRow>
          <MetricRow label="UUID">
            <Text value={gpu.uuid ?? info?.uuid} />
          </MetricRow>
          <MetricRow label="PCI bus">
            <Text value={gpu.pci_bus_id ?? info?.pci_bus_id} />
          </MetricRow>
          <MetricRow label="Total memory">
            <MetricValue value={info?.memory_total_gb ?? gpu.memory.total_gb} format="memory" />
          </MetricRow>
        </div>
        <div>
          <MetricRow label="Driver">
            <Text value={info?.driver_version} />
          </MetricRow>
          <MetricRow label="CUDA">
            <Text value={info?.cuda_version} />
          </MetricRow>
          <MetricRow label="Compute capability">
            <Text value={info?.compute_capability} />
          </MetricRow>
          <MetricRow label="MIG mode">
            {gpu.mig_mode === null || gpu.mig_mode === undefined ? (
              <span className="na">N/A</span>
            ) : (
              <span>{gpu.mig_mode ? 'Enabled' : 'Disabled'}</span>
            )}
          </MetricRow>
          <MetricRow label="Host">
            <Text value={system?.hostname} />
          </MetricRow>
        </div>
      </div>
    </Panel>
  );
});
