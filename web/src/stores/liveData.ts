/**
 * The latest live frame: every GPU, the host, processes and storage as one immutable object, replaced
 * whole on every update so a render never mixes two moments. Components read it through selectors.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { GPUInfo, GPUMetrics, GPUProcess, StorageInfo, SystemMetrics } from '../types/system';

export interface LiveFrame {
  gpuAvailable: boolean;
  /** Why GPUs are unavailable, when they are ("ok" otherwise). */
  gpuStatus: string;
  gpuList: GPUInfo[];
  /** Every GPU's latest metrics. */
  gpus: GPUMetrics[];
  system: SystemMetrics | null;
  /** GPU processes; those with a `gpu_id` belong to that GPU, those without to the GPU asked for. */
  processes: GPUProcess[];
  storage: StorageInfo[];
  /** Server time of the snapshot, ms. */
  snapshotTime: number | null;
}

export interface LiveDataState {
  frame: LiveFrame | null;
}

export type LiveDataStore = UseBoundStore<StoreApi<LiveDataState>>;

export function createLiveDataStore(): LiveDataStore {
  return create<LiveDataState>()(() => ({ frame: null }));
}

export const useLiveData = createLiveDataStore();

/** The GPU to show: the preferred one while it exists, else the first listed. */
export function resolveGPU(frame: LiveFrame | null, preferred: number): number {
  const list = frame?.gpuList ?? [];
  if (list.length === 0 || list.some((gpu) => gpu.id === preferred)) return preferred;
  return list[0]?.id ?? preferred;
}

export function selectGPU(frame: LiveFrame | null, gpuId: number): GPUMetrics | null {
  return frame?.gpus.find((gpu) => gpu.gpu_id === gpuId) ?? null;
}

export function selectGPUInfo(frame: LiveFrame | null, gpuId: number): GPUInfo | undefined {
  return frame?.gpuList.find((gpu) => gpu.id === gpuId);
}

const processCache = new WeakMap<LiveFrame, Map<number, GPUProcess[]>>();

/** The processes of one GPU; the same array for the same frame, so memoized panels skip re-rendering. */
export function selectProcesses(frame: LiveFrame | null, gpuId: number): GPUProcess[] {
  if (!frame) return EMPTY_PROCESSES;
  let byGPU = processCache.get(frame);
  if (!byGPU) {
    byGPU = new Map();
    processCache.set(frame, byGPU);
  }
  let processes = byGPU.get(gpuId);
  if (!processes) {
    processes = frame.processes.filter((process) => process.gpu_id === undefined || process.gpu_id === null || process.gpu_id === gpuId);
    byGPU.set(gpuId, processes);
  }
  return processes;
}

const EMPTY_PROCESSES: GPUProcess[] = [];
