import { getJson } from './client';
import type { AllGPUsResponse, GPUInfo, HealthResponse, MonitoringDataResponse, SystemMetrics } from '../types/system';

/** The spec's system endpoints (003 §4). */
export const systemApi = {
  getAllMonitoringData(gpuId: number, signal?: AbortSignal): Promise<MonitoringDataResponse> {
    return getJson(`/system/monitoring/all?gpu_id=${gpuId}`, { signal });
  },
  /** Every GPU's metrics in one response: the compare view and the navigation bar's status. */
  getAllGPUs(signal?: AbortSignal): Promise<AllGPUsResponse> {
    return getJson('/system/gpus', { signal });
  },
  getHealth(signal?: AbortSignal): Promise<HealthResponse> {
    return getJson('/health', { signal });
  },
  getGPUList(signal?: AbortSignal): Promise<GPUInfo[]> {
    return getJson('/system/gpu-list', { signal });
  },
  getSystemMetrics(signal?: AbortSignal): Promise<SystemMetrics> {
    return getJson('/system/metrics', { signal });
  },
};
