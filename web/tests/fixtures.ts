import type { GPUMetrics, MonitoringDataResponse, SystemMetrics } from '../src/types/system';

export function makeGPU(gpuId: number, overrides: Partial<GPUMetrics> = {}): GPUMetrics {
  return {
    gpu_id: gpuId,
    gpu_name: 'NVIDIA H100 80GB HBM3',
    lost: false,
    unresponsive: false,
    utilization: { gpu: 50, memory: 30, compute: 50 },
    memory: { used_gb: 20, total_gb: 80, used_percent: 25 },
    temperature: 60,
    power: { current_watts: 300, max_watts: 700, usage_percent: 42.9 },
    fan_speed: 40,
    clocks: { gpu_mhz: 1500, gpu_max_mhz: 1980, memory_mhz: 2619, memory_max_mhz: 2619 },
    pcie: { bandwidth_gbps: 63, generation: 5, width: 16 },
    encoder_utilization: 0,
    decoder_utilization: null,
    ...overrides,
  };
}

export function makeSystem(cpu = 20): SystemMetrics {
  return {
    cpu: { usage_percent: cpu, core_count: 8, frequency_mhz: 3000 },
    memory: { used_gb: 8, total_gb: 32, used_percent: 25, available_gb: 24 },
    swap: { used_gb: 0, total_gb: 2, used_percent: 0, available_gb: 2 },
    network: { upload_mbps: 1, download_mbps: 2 },
    disk_io: { read_mbps: 3, write_mbps: 4 },
  };
}

export function makeResponse(gpuId = 0, gpuCount = 2): MonitoringDataResponse {
  return {
    gpu_available: true,
    gpu_status: 'ok',
    timestamp: 1_700_000_000,
    gpu_list: Array.from({ length: gpuCount }, (_, id) => ({
      id,
      name: 'NVIDIA H100 80GB HBM3',
      memory_total_gb: 80,
      cuda_version: '12.4',
      driver_version: '550.54.15',
      compute_capability: '9.0',
      lost: false,
    })),
    gpu_metrics: makeGPU(gpuId),
    system_metrics: makeSystem(),
    gpu_processes: [],
    storage: [{ mount_point: '/', used_gb: 10, total_gb: 100, used_percent: 10 }],
  };
}

/** An in-memory Storage for the persist middleware. */
export function memoryStorage() {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}
