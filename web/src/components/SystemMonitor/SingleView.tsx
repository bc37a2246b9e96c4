import type { GPUInfo, GPUMetrics, GPUProcess, StorageInfo, SystemMetrics } from '../../types/system';
import { FanSpeedPanel } from './FanSpeedPanel';
import { GPUProcessesPanel } from './GPUProcessesPanel';
import { HardwareMetricsPanel } from './HardwareMetricsPanel';
import { HealthPanel } from './HealthPanel';
import { PowerUsagePanel } from './PowerUsagePanel';
import { StoragePanel } from './StoragePanel';
import { SystemInformationPanel } from './SystemInformationPanel';
import { SystemResourcesPanel } from './SystemResourcesPanel';
import { TemperaturePanel } from './TemperaturePanel';
import { UtilizationPanel } from './UtilizationPanel';

interface SingleViewProps {
  gpu: GPUMetrics | null;
  info: GPUInfo | undefined;
  system: SystemMetrics | null;
  processes: GPUProcess[];
  storage: StorageInfo[];
}

/** One GPU in depth, then the host (spec 003 §2.3). */
export function SingleView({ gpu, info, system, processes, storage }: SingleViewProps) {
  return (
    <div data-testid="single-view">
      {gpu && (
        <>
          <div className="section-header section">
            <h2 data-testid="single-gpu-title">
              GPU {gpu.gpu_id} · {gpu.gpu_name}
            </h2>
          </div>
          <div className="grid grid-4">
            <UtilizationPanel gpu={gpu} />
            <TemperaturePanel gpu={gpu} />
            <PowerUsagePanel gpu={gpu} />
            <FanSpeedPanel gpu={gpu} />
          </div>
          <div className="grid grid-2 section">
            <HardwareMetricsPanel gpu={gpu} />
            <HealthPanel gpu={gpu} />
          </div>
        </>
      )}
      {system && (
        <div className="grid grid-2 section">
          <SystemResourcesPanel system={system} />
          <StoragePanel storage={storage} />
        </div>
      )}
      {gpu && (
        <div className="section">
          <GPUProcessesPanel processes={processes} />
        </div>
      )}
      {gpu && (
        <div className="section">
          <SystemInformationPanel info={info} gpu={gpu} system={system} />
        </div>
      )}
    </div>
  );
}
