import type { GPUInfo } from '../../types/system';

interface GPUSelectorProps {
  gpus: GPUInfo[];
  selected: number;
  onSelect: (gpuId: number) => void;
}

/** Shown only when there is a choice to make (spec 003 §2.3). */
export function GPUSelector({ gpus, selected, onSelect }: GPUSelectorProps) {
  if (gpus.length < 2) return null;
  return (
    <label className="gpu-selector" style={{ display: 'inline-flex', alignItems: 'center', gap: 8 }}>
      <span className="muted">GPU</span>
      <select
        className="select"
        data-testid="gpu-selector"
        value={selected}
        onChange={(event) => onSelect(Number(event.target.value))}
      >
        {gpus.map((gpu) => (
          <option key={gpu.id} value={gpu.id}>
            {gpu.id}: {gpu.name}
          </option>
        ))}
      </select>
    </label>
  );
}
