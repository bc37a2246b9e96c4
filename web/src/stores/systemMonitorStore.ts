/**
 * The dashboard's state and its polling loop (spec 003 §5.1, §8).
 *
 * Built by a factory so tests can give it a fake API and their own storage.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware';
import { ApiError, currentToken } from '../api/client';
import { systemApi } from '../api/system';
import { emitAlertEvent } from '../stream/alertEvents';
import { LiveSource, streamUrl, type SnapshotFrame, type Transport } from '../stream/liveSource';
import { classifyError, errorMessage } from '../utils/errors';
import { liveHistory as defaultHistory, type LiveHistory } from './liveHistory';
import type {
  ErrorType,
  GPUInfo,
  GPUMetrics,
  GPUProcess,
  MonitoringDataResponse,
  StorageInfo,
  SystemMetrics,
  Theme,
  TimeRange,
  UpdateInterval,
  ViewMode,
} from '../types/system';

/** §8.2: polling stops after this many consecutive failures; Retry starts it again. */
export const MAX_CONSECUTIVE_ERRORS = 5;
/** §2.2: the navigation bar's status has its own, slower cadence. */
export const COMPACT_POLL_INTERVAL_MS = 2000;

export interface MonitorApi {
  getAllMonitoringData(gpuId: number): Promise<MonitoringDataResponse>;
  getAllGPUs(): Promise<GPUMetrics[]>;
}

export interface SystemMonitorState {
  // GPU state
  gpuAvailable: boolean;
  gpuList: GPUInfo[];
  selectedGPU: number;
  gpuMetrics: GPUMetrics | null;
  /** Every GPU's latest metrics: compare view and navigation status. */
  allGPUs: GPUMetrics[];

  // System state
  systemMetrics: SystemMetrics | null;
  gpuProcesses: GPUProcess[];
  storageInfo: StorageInfo[];
  /** Server time of the latest snapshot, ms. */
  snapshotTime: number | null;

  // UI state (persisted)
  viewMode: ViewMode;
  updateInterval: UpdateInterval;
  theme: Theme;
  timeRange: TimeRange;

  // Polling state
  isPolling: boolean;
  /** How live updates arrive right now. */
  transport: Transport;
  loading: boolean;
  isRetrying: boolean;
  compactPolling: boolean;
  compactError: boolean;

  // Error state
  error: string | null;
  errorType: ErrorType | null;
  isConnected: boolean;
  consecutiveErrors: number;
  lastSuccessfulFetch: Date | null;

  // Actions
  fetchAllMetrics: () => Promise<void>;
  fetchAllGPUs: () => Promise<void>;
  setSelectedGPU: (gpuId: number) => void;
  setViewMode: (mode: ViewMode) => void;
  setUpdateInterval: (interval: UpdateInterval) => void;
  setTheme: (theme: Theme) => void;
  setTimeRange: (range: TimeRange) => void;
  startPolling: (interval: UpdateInterval) => void;
  stopPolling: () => void;
  retryConnection: () => void;
  startCompactPolling: () => void;
  stopCompactPolling: () => void;
  applyMonitoringData: (response: MonitoringDataResponse, allGPUs?: GPUMetrics[]) => void;
  applyStreamFrame: (frame: SnapshotFrame) => void;
  /** While streaming: refresh what frames lack (GPU list, storage) without touching the live values. */
  fetchStaticData: () => Promise<void>;
  /** The token changed: the stream must reconnect with the new one. */
  reconnectStream: () => void;
}

export type PersistedSettings = Pick<
  SystemMonitorState,
  'viewMode' | 'selectedGPU' | 'updateInterval' | 'theme' | 'timeRange'
>;

export const STORAGE_KEY = 'gpu-sentinel.settings';

interface StoreDeps {
  api?: MonitorApi;
  storage?: StateStorage;
  history?: LiveHistory;
  now?: () => number;
  streamEnabled?: boolean;
  createSocket?: (url: string) => WebSocket;
  token?: () => string | null;
}

interface StaticData {
  gpuList: GPUInfo[];
  storageInfo: StorageInfo[];
  gpuStatus?: string;
}

/** A stream frame in the shape polling gets from `/system/monitoring/all`, for one selected GPU. */
export function frameToMonitoringData(
  frame: SnapshotFrame,
  selectedGPU: number,
  previous: StaticData & { systemMetrics: SystemMetrics | null; gpuProcesses: GPUProcess[] },
): MonitoringDataResponse | null {
  const system = frame.system_metrics ?? previous.systemMetrics;
  if (!system) return null;
  const gpu = frame.gpus.find((candidate) => candidate.gpu_id === selectedGPU) ?? frame.gpus[0] ?? null;
  const processes = frame.gpu_processes
    ? frame.gpu_processes.filter((process) => process.gpu_id === undefined || process.gpu_id === gpu?.gpu_id)
    : previous.gpuProcesses;
  return {
    gpu_available: frame.gpu_available,
    ...(previous.gpuStatus ? { gpu_status: previous.gpuStatus } : {}),
    gpu_list: previous.gpuList,
    gpu_metrics: gpu,
    system_metrics: system,
    gpu_processes: processes,
    storage: previous.storageInfo,
    timestamp: frame.timestamp,
  };
}

/** Frames per second to ask the stream for: one per update interval. */
export function streamRateHz(intervalMs: number): number {
  return Math.round((1000 / intervalMs) * 100) / 100;
}

function preferredTheme(): Theme {
  if (typeof window !== 'undefined' && typeof window.matchMedia === 'function') {
    return window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  return 'dark';
}

export function createSystemMonitorStore(deps: StoreDeps = {}): UseBoundStore<StoreApi<SystemMonitorState>> {
  const api = deps.api ?? systemApi;
  const history = deps.history ?? defaultHistory;
  const now = deps.now ?? Date.now;

  // Timers and request bookkeeping are not state: nothing renders from them.
  let liveSource: LiveSource | null = null;
  let compactTimer: ReturnType<typeof setInterval> | null = null;
  let inFlight = false;
  let compactInFlight = false;
  let requestSeq = 0;
  let staticInFlight = false;
  let lastFrame: SnapshotFrame | null = null;
  let gpuStatus: string | undefined;
  const token = deps.token ?? currentToken;

  return create<SystemMonitorState>()(
    persist(
      (set, get) => ({
        gpuAvailable: false,
        gpuList: [],
        selectedGPU: 0,
        gpuMetrics: null,
        allGPUs: [],
        systemMetrics: null,
        gpuProcesses: [],
        storageInfo: [],
        snapshotTime: null,
        viewMode: 'single',
        updateInterval: 1000,
        theme: preferredTheme(),
        timeRange: '1h',
        isPolling: false,
        transport: 'polling',
        loading: true,
        isRetrying: false,
        compactPolling: false,
        compactError: false,
        error: null,
        errorType: null,
        isConnected: false,
        consecutiveErrors: 0,
        lastSuccessfulFetch: null,

        applyMonitoringData: (response, allGPUs) => {
          // Client time, not the server's: every series in the history must share one clock.
          const gpus = allGPUs ?? (response.gpu_metrics ? [response.gpu_metrics] : []);
          history.record(now(), response.system_metrics, gpus);
          gpuStatus = response.gpu_status;
          set({
            gpuAvailable: response.gpu_available,
            gpuList: response.gpu_list,
            gpuMetrics: response.gpu_metrics,
            systemMetrics: response.system_metrics,
            gpuProcesses: response.gpu_processes,
            storageInfo: response.storage,
            snapshotTime: response.timestamp ? response.timestamp * 1000 : null,
            ...(allGPUs ? { allGPUs } : {}),
            error: null,
            errorType: null,
            isConnected: true,
            consecutiveErrors: 0,
            lastSuccessfulFetch: new Date(),
            loading: false,
            isRetrying: false,
          });
        },

        applyStreamFrame: (frame) => {
          lastFrame = frame;
          const state = get();
          const gpuId =
            state.gpuList.length > 0 && !state.gpuList.some((gpu) => gpu.id === state.selectedGPU)
              ? (state.gpuList[0]?.id ?? 0)
              : state.selectedGPU;
          const data = frameToMonitoringData(frame, gpuId, { ...state, gpuStatus });
          if (!data) return;
          if (gpuId !== state.selectedGPU) set({ selectedGPU: gpuId });
          get().applyMonitoringData(data, frame.gpus);
          // The first frame can beat the first poll: fetch the GPU list and storage it cannot carry.
          if (frame.gpu_available && state.gpuList.length === 0 && !inFlight) void get().fetchStaticData();
        },

        fetchStaticData: async () => {
          if (staticInFlight) return;
          staticInFlight = true;
          try {
            const response = await api.getAllMonitoringData(get().selectedGPU);
            gpuStatus = response.gpu_status;
            set({ gpuList: response.gpu_list, storageInfo: response.storage });
          } catch {
            // The stream carries the live values; a missed side poll only delays the GPU list and storage.
          } finally {
            staticInFlight = false;
          }
        },

        reconnectStream: () => liveSource?.reconnect(),

        fetchAllMetrics: async () => {
          // A slow server must not pile requests up behind each other.
          if (inFlight) return;
          inFlight = true;
          const seq = ++requestSeq;
          const { selectedGPU, gpuList, viewMode } = get();
          let gpuId = selectedGPU;
          if (gpuList.length > 0 && !gpuList.some((gpu) => gpu.id === selectedGPU)) {
            gpuId = gpuList[0]?.id ?? 0;
            set({ selectedGPU: gpuId });
          }
          try {
            const wantAll = viewMode === 'compare';
            const [response, allGPUs] = await Promise.all([
              api.getAllMonitoringData(gpuId),
              wantAll ? api.getAllGPUs().catch(() => undefined) : Promise.resolve(undefined),
            ]);
            // A GPU switch while this request ran makes its answer stale.
            if (seq !== requestSeq || get().selectedGPU !== gpuId) return;
            get().applyMonitoringData(response, allGPUs);
          } catch (error) {
            if (seq !== requestSeq) return;
            const consecutiveErrors = get().consecutiveErrors + 1;
            set({
              error: errorMessage(error),
              errorType: classifyError(error),
              isConnected: false,
              consecutiveErrors,
              loading: false,
              isRetrying: false,
            });
            if (consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) get().stopPolling();
          } finally {
            inFlight = false;
          }
        },

        fetchAllGPUs: async () => {
          if (compactInFlight) return;
          compactInFlight = true;
          try {
            const allGPUs = await api.getAllGPUs();
            history.record(now(), null, allGPUs);
            set({ allGPUs, compactError: false });
          } catch (error) {
            // 503 means "no GPU", which the status shows as such; anything else means the server is unreachable.
            if (error instanceof ApiError && error.status === 503) set({ allGPUs: [], compactError: false });
            else set({ compactError: true });
          } finally {
            compactInFlight = false;
          }
        },

        setSelectedGPU: (gpuId) => {
          if (gpuId === get().selectedGPU) return;
          requestSeq += 1; // drop answers for the previous GPU
          inFlight = false;
          set({ selectedGPU: gpuId });
          // The stream sends every GPU: the last frame already holds the new one's values.
          if (get().transport === 'stream' && lastFrame) get().applyStreamFrame(lastFrame);
          if (get().isPolling) void get().fetchAllMetrics();
        },

        setViewMode: (viewMode) => {
          set({ viewMode });
          if (get().isPolling) void get().fetchAllMetrics();
        },

        setUpdateInterval: (updateInterval) => {
          set({ updateInterval });
          if (get().isPolling) get().startPolling(updateInterval);
        },

        setTheme: (theme) => set({ theme }),
        setTimeRange: (timeRange) => set({ timeRange }),

        startPolling: (interval) => {
          get().stopPolling();
          set({ isPolling: true, updateInterval: interval });
          liveSource = new LiveSource({
            intervalMs: interval,
            poll: () => void get().fetchAllMetrics(),
            sidePoll: () => void get().fetchStaticData(),
            onSnapshot: (frame) => get().applyStreamFrame(frame),
            onAlert: emitAlertEvent,
            onTransport: (transport) => set({ transport }),
            url: (withRate) => streamUrl({ token: token(), rateHz: withRate ? streamRateHz(interval) : null }),
            ...(deps.streamEnabled !== undefined ? { streamEnabled: deps.streamEnabled } : {}),
            ...(deps.createSocket ? { createSocket: deps.createSocket } : {}),
          });
          liveSource.start();
        },

        stopPolling: () => {
          liveSource?.stop();
          liveSource = null;
          set({ isPolling: false });
        },

        retryConnection: () => {
          set({ consecutiveErrors: 0, error: null, errorType: null, isRetrying: true });
          get().startPolling(get().updateInterval);
        },

        startCompactPolling: () => {
          if (compactTimer !== null) return;
          compactTimer = setInterval(() => void get().fetchAllGPUs(), COMPACT_POLL_INTERVAL_MS);
          set({ compactPolling: true });
          void get().fetchAllGPUs();
        },

        stopCompactPolling: () => {
          if (compactTimer !== null) clearInterval(compactTimer);
          compactTimer = null;
          set({ compactPolling: false });
        },
      }),
      {
        name: STORAGE_KEY,
        version: 1,
        storage: createJSONStorage(() => deps.storage ?? localStorage),
        partialize: (state): PersistedSettings => ({
          viewMode: state.viewMode,
          selectedGPU: state.selectedGPU,
          updateInterval: state.updateInterval,
          theme: state.theme,
          timeRange: state.timeRange,
        }),
      },
    ),
  );
}

export const useSystemMonitorStore = createSystemMonitorStore();
