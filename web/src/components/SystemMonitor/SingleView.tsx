import { useMemo, type ReactNode } from 'react';
import type { GPUInfo, GPUMetrics, GPUProcess, StorageInfo, SystemMetrics } from '../../types/system';
import type { SinglePanelId } from '../../utils/panelLayout';
import { FanSpeedPanel } from './FanSpeedPanel';
import { GPUProcessesPanel } from './GPUProcessesPanel';
import { HardwareMetricsPanel } from './HardwareMetricsPanel';
import { HealthPanel } from './HealthPanel';
import { MIGInstancesPanel } from './MIGInstances';
import { PanelLayout } from './PanelLayout';
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
  trends: ReactNode;
  editing: boolean;
  onEditLayout: () => void;
  onDoneEditing: () => void;
}

/** One GPU in depth, then the host (spec 003 §2.3), in the order the user chose. */
export function SingleView({ gpu, info, system, processes, storage, trends, editing, onEditLayout, onDoneEditing }: SingleViewProps) {
  const panels = useMemo(() => {
    const shown: Partial<Record<SinglePanelId, ReactNode>> = { trends };
    if (gpu) {
      shown.utilization = <UtilizationPanel gpu={gpu} />;
      shown.temperature = <TemperaturePanel gpu={gpu} />;
      shown.power = <PowerUsagePanel gpu={gpu} />;
      shown.fan = <FanSpeedPanel gpu={gpu} />;
      shown.hardware = <HardwareMetricsPanel gpu={gpu} />;
      shown.health = <HealthPanel gpu={gpu} />;
      shown.processes = <GPUProcessesPanel processes={processes} gpuId={gpu.gpu_id} />;
      shown['system-info'] = <SystemInformationPanel info={info} gpu={gpu} system={system} />;
    }
    if (system) {
      shown['system-resources'] = <SystemResourcesPanel system={system} />;
      shown.storage = <StoragePanel storage={storage} />;
    }
    return shown;
  }, [gpu, info, system, processes, storage, trends]);

  return (
    <PanelLayout
      view="single"
      panels={panels}
      editing={editing}
      onEdit={onEditLayout}
      onDoneEditing={onDoneEditing}
      testId="single-view"
      header={
        gpu && (
          <>
            <div className="section-header">
              <h2 data-testid="single-gpu-title">
                GPU {gpu.gpu_id} · {gpu.gpu_name}
              </h2>
            </div>
            {/* A GPU in MIG mode is its instances: they lead, whatever the layout. */}
            {(gpu.mig_instances ?? []).length > 0 && (
              <div className="section">
                <MIGInstancesPanel instances={gpu.mig_instances ?? []} />
              </div>
            )}
          </>
        )
      }
    />
  );
}
