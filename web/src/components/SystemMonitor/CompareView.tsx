import type { GPUMetrics } from '../../types/system';
import { GPUCard } from './GPUCard';

interface CompareViewProps {
  gpus: GPUMetrics[];
  selected: number;
  onOpen: (gpuId: number) => void;
}

/** One card per GPU (spec 003 §2.3). */
export function CompareView({ gpus, selected, onOpen }: CompareViewProps) {
  return (
    <section className="section" aria-labelledby="compare-title" data-testid="compare-view">
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
  );
}
