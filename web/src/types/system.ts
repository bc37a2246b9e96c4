/**
 * Shapes of the REST API (spec 003 §3) plus the extras GPU Sentinel reports.
 * Every metric may be null: hardware that cannot report a value sends null, never 0.
 */

export type Metric = number | null;

export interface GPUUtilization {
  gpu: Metric;
  memory: Metric;
  compute: Metric;
}

export interface GPUMemory {
  used_gb: Metric;
  total_gb: Metric;
  used_percent: Metric;
  free_gb?: Metric;
}

export interface GPUPower {
  current_watts: Metric;
  max_watts: Metric;
  usage_percent: Metric;
  /** Energy used since the driver loaded. */
  energy_joules?: Metric;
}

export interface GPUClocks {
  gpu_mhz: Metric;
  gpu_max_mhz: Metric;
  memory_mhz: Metric;
  memory_max_mhz: Metric;
}

export interface GPUPCIe {
  /** Link bandwidth per direction at the current generation and width, GB/s. */
  bandwidth_gbps: Metric;
  generation: Metric;
  width: Metric;
  max_generation?: Metric;
  max_width?: Metric;
  /** Measured throughput, MB/s. */
  tx_mb_per_s?: Metric;
  rx_mb_per_s?: Metric;
}

export interface XidEvent {
  /** Unix seconds. */
  timestamp: number;
  xid: number;
}

export interface ECCErrors {
  corrected_volatile: Metric;
  uncorrected_volatile: Metric;
  corrected_aggregate: Metric;
  uncorrected_aggregate: Metric;
}

export interface RetiredPages {
  single_bit: Metric;
  double_bit: Metric;
  pending: boolean | null;
}

export interface RemappedRows {
  correctable: Metric;
  uncorrectable: Metric;
  pending: boolean | null;
  failure: boolean | null;
}

export interface GPUHealth {
  lost: boolean;
  xid_count: number;
  last_xid: Metric;
  /** Most recent XID errors, oldest first. */
  xid_events: XidEvent[];
  /** Why clocks are held down right now; empty means full clocks. */
  clock_event_reasons: string[] | null;
  ecc: ECCErrors;
  retired_pages: RetiredPages;
  remapped_rows: RemappedRows;
}

export interface GPUMetrics {
  gpu_id: number;
  gpu_name: string;
  uuid?: string | null;
  pci_bus_id?: string | null;
  lost?: boolean;
  utilization: GPUUtilization;
  memory: GPUMemory;
  temperature: Metric;
  memory_temperature?: Metric;
  power: GPUPower;
  fan_speed: Metric;
  clocks: GPUClocks;
  pcie: GPUPCIe;
  encoder_utilization: Metric;
  decoder_utilization: Metric;
  pstate?: Metric;
  mig_mode?: boolean | null;
  health?: GPUHealth | null;
}

export interface GPUInfo {
  id: number;
  name: string;
  memory_total_gb: Metric;
  cuda_version: string | null;
  driver_version: string | null;
  compute_capability: string | null;
  uuid?: string | null;
  serial?: string | null;
  pci_bus_id?: string | null;
  lost?: boolean;
}

export interface SystemMetrics {
  hostname?: string | null;
  uptime_seconds?: Metric;
  cpu: {
    usage_percent: Metric;
    core_count: Metric;
    frequency_mhz: Metric;
    per_core_percent?: number[] | null;
    load_average?: number[] | null;
  };
  memory: {
    used_gb: Metric;
    total_gb: Metric;
    used_percent: Metric;
    available_gb: Metric;
  };
  swap: {
    used_gb: Metric;
    total_gb: Metric;
    used_percent: Metric;
  };
  /** Megabits per second, all interfaces but loopback. */
  network: {
    upload_mbps: Metric;
    download_mbps: Metric;
  };
  /** Megabytes per second, all disks. */
  disk_io: {
    read_mbps: Metric;
    write_mbps: Metric;
  };
}

export interface GPUProcess {
  pid: number;
  process_name: string;
  gpu_memory_mb: Metric;
  cpu_percent: Metric;
  user?: string | null;
  host_memory_mb?: Metric;
  kind?: string | null;
  gpu_id?: number | null;
}

export interface StorageInfo {
  mount_point: string;
  used_gb: Metric;
  total_gb: Metric;
  used_percent: Metric;
  fstype?: string | null;
}

export interface MonitoringDataResponse {
  gpu_available: boolean;
  /** Why GPUs are unavailable, when they are. */
  gpu_status?: string;
  gpu_list: GPUInfo[];
  gpu_metrics: GPUMetrics | null;
  system_metrics: SystemMetrics;
  gpu_processes: GPUProcess[];
  storage: StorageInfo[];
  /** Unix seconds of the snapshot the server answered from. */
  timestamp?: number;
}

export interface AllGPUsResponse {
  gpu_available: boolean;
  timestamp: number;
  gpus: GPUMetrics[];
  gpu_processes: GPUProcess[];
}

export interface HealthResponse {
  status: 'ok' | 'stale' | 'starting';
  version: string;
  uptime_seconds: number;
}

export type ViewMode = 'single' | 'compare';
export type UpdateInterval = 500 | 1000 | 2000 | 5000;
export type ErrorType = 'connection' | 'gpu' | 'api' | 'general';
export type Theme = 'dark' | 'light';
export type TimeRange = '1h' | '6h' | '24h' | '7d' | '30d';

export const UPDATE_INTERVALS: readonly UpdateInterval[] = [500, 1000, 2000, 5000];
export const LIVE_TIME_RANGES: readonly TimeRange[] = ['1h', '6h', '24h'];
export const SERVER_ONLY_TIME_RANGES: readonly TimeRange[] = ['7d', '30d'];
