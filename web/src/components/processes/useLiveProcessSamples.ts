import { useEffect, useState } from 'react';
import { useLiveData, type LiveFrame } from '../../stores/liveData';
import type { GPUProcess } from '../../types/system';
import type { ChartData } from '../../utils/chartData';

/** Ten minutes at the fastest update interval: enough to watch a job start, bounded in memory. */
const MAX_POINTS = 1200;
const MIB_PER_GIB = 1024;

interface Samples {
  x: number[];
  memory: (number | null)[];
  sm: (number | null)[];
}

const EMPTY: Samples = { x: [], memory: [], sm: [] };

function find(frame: LiveFrame | null, pid: number, gpuId: number | null): GPUProcess | undefined {
  return frame?.processes.find((process) => process.pid === pid && (gpuId === null || process.gpu_id === gpuId));
}

/**
 * One process's GPU memory (GiB) and SM share from every live frame since it was selected, at the live
 * rate, so a process younger than history's first minute already has a line. A frame without the
 * process (it exited) leaves a gap.
 */
export function useLiveProcessSamples(pid: number, gpuId: number | null): { memory: ChartData; utilization: ChartData } {
  const [samples, setSamples] = useState<Samples>(EMPTY);
  useEffect(() => {
    setSamples(EMPTY);
    const add = (frame: LiveFrame | null) => {
      if (!frame?.snapshotTime) return;
      const process = find(frame, pid, gpuId);
      const t = frame.snapshotTime / 1000;
      setSamples((current) => {
        if (current.x.length && current.x[current.x.length - 1]! >= t) return current;
        const start = Math.max(0, current.x.length + 1 - MAX_POINTS);
        return {
          x: [...current.x.slice(start), t],
          memory: [...current.memory.slice(start), process?.gpu_memory_mb == null ? null : process.gpu_memory_mb / MIB_PER_GIB],
          sm: [...current.sm.slice(start), process?.sm_percent ?? null],
        };
      });
    };
    add(useLiveData.getState().frame);
    return useLiveData.subscribe((state) => add(state.frame));
  }, [pid, gpuId]);
  return {
    memory: { x: samples.x, columns: [samples.memory], series: [{ label: 'GPU memory', colorKey: 0 }] },
    utilization: { x: samples.x, columns: [samples.sm], series: [{ label: 'SM share', colorKey: 0 }] },
  };
}
