import { useMemo, type ReactNode } from 'react';
import type { GPUMetrics, StorageInfo, SystemMetrics } from '../../types/system';
import type { ComparePanelId } from '../../utils/panelLayout';
import { GPUCard } from './GPUCard';
import { PanelLayout } from './PanelLayout';
import { StoragePanel } from './StoragePanel';
import { SystemResourcesPanel } from './SystemResourcesPanel';

interface CompareViewProps {
  gpus: GPUMetrics[];
  selected: number;
  onOpen: (gpuId: number) => void;
  system: SystemMetrics | null;
  storage: StorageInfo[];
  trends: ReactNode;
  editing: boolean;
  onEditLayout: () => void;
  onDoneEditing: () => void;
}

/** One card per GPU (spec 003 §2.3), with the trends and, if the user adds them, the host's panels. */
export function CompareView({ gpus, selected, onOpen, system, storage, trends, editing, onEditLayout, onDoneEditing }: CompareViewProps) {
  const panels = useMemo(() => {
    const shown: Partial<Record<ComparePanelId, ReactNode>> = {
      trends,
      'gpu-cards': (
        <section aria-labelledby="compare-title" data-testid="gpu-cards">
          <div className="section-header">
            <h2 id="compare-title">All GPUs</h2>
            <span className="faint" style={{ fontSize: 12 }}>
              Open a card for that GPU's details.
            </span>
          </div>
          {gpus.length === 0 ? (
            <p className="faint">Waiting for GPU metrics…</p>
          ) : (
            <div className="grid cards-grid">
              {gpus.map((gpu) => (
                <GPUCard key={gpu.gpu_id} gpu={gpu} selected={gpu.gpu_id === selected} onOpen={onOpen} />
              ))}
            </div>
          )}
        </section>
      ),
    };
    if (system) {
      shown['system-resources'] = <SystemResourcesPanel system={system} />;
      shown.storage = <StoragePanel storage={storage} />;
    }
    return shown;
  }, [gpus, selected, onOpen, system, storage, trends]);

  return (
    <PanelLayout view="compare" panels={panels} editing={editing} onEdit={onEditLayout} onDoneEditing={onDoneEditing} testId="compare-view" />
  );
}
