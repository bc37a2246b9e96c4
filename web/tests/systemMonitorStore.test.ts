import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/client';
import { LiveHistory } from '../src/stores/liveHistory';
import {
  createSystemMonitorStore,
  MAX_CONSECUTIVE_ERRORS,
  STORAGE_KEY,
  type MonitorApi,
} from '../src/stores/systemMonitorStore';
import { makeGPU, makeResponse, memoryStorage } from './fixtures';
import type { MonitoringDataResponse } from '../src/types/system';

function fakeApi(): MonitorApi & { failWith: ApiError | null; calls: number[] } {
  const api = {
    failWith: null as ApiError | null,
    calls: [] as number[],
    getAllMonitoringData: vi.fn(async (gpuId: number) => {
      api.calls.push(gpuId);
      if (api.failWith) throw api.failWith;
      return makeResponse(gpuId);
    }),
    getAllGPUs: vi.fn(async () => [makeGPU(0), makeGPU(1)]),
  };
  return api;
}

/** Let the fake API's promises settle. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

describe('systemMonitorStore', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads metrics on start and polls at the chosen interval', async () => {
    const api = fakeApi();
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    store.getState().startPolling(1000);
    await flush();
    expect(store.getState().gpuMetrics?.gpu_id).toBe(0);
    expect(store.getState().isConnected).toBe(true);
    expect(store.getState().loading).toBe(false);
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.calls.length).toBe(4);
    store.getState().stopPolling();
  });

  it('counts consecutive errors and stops polling after five', async () => {
    const api = fakeApi();
    api.failWith = new ApiError('Cannot reach the GPU Sentinel server', null);
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    store.getState().startPolling(500);
    await flush();
    expect(store.getState().consecutiveErrors).toBe(1);
    expect(store.getState().errorType).toBe('connection');
    await vi.advanceTimersByTimeAsync(500 * 10);
    expect(store.getState().consecutiveErrors).toBe(MAX_CONSECUTIVE_ERRORS);
    expect(store.getState().isPolling).toBe(false);
    expect(api.calls.length).toBe(MAX_CONSECUTIVE_ERRORS);
  });

  it('retryConnection resets the counter and recovers when the server is back', async () => {
    const api = fakeApi();
    api.failWith = new ApiError('Server error', 500);
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    store.getState().startPolling(500);
    await vi.advanceTimersByTimeAsync(500 * 10);
    expect(store.getState().isPolling).toBe(false);
    expect(store.getState().errorType).toBe('api');

    api.failWith = null;
    store.getState().retryConnection();
    expect(store.getState().consecutiveErrors).toBe(0);
    expect(store.getState().error).toBeNull();
    await flush();
    expect(store.getState().isPolling).toBe(true);
    expect(store.getState().isConnected).toBe(true);
    expect(store.getState().isRetrying).toBe(false);
    store.getState().stopPolling();
  });

  it('a success in between resets the error count', async () => {
    const api = fakeApi();
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    api.failWith = new ApiError('down', 503);
    store.getState().startPolling(1000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(store.getState().consecutiveErrors).toBe(3);
    expect(store.getState().errorType).toBe('gpu');
    api.failWith = null;
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.getState().consecutiveErrors).toBe(0);
    expect(store.getState().error).toBeNull();
    store.getState().stopPolling();
  });

  it('persists view mode, selected GPU, interval, theme and time range, and nothing else', async () => {
    const storage = memoryStorage();
    const api = fakeApi();
    const store = createSystemMonitorStore({ api, storage, history: new LiveHistory(), streamEnabled: false });
    store.getState().setViewMode('compare');
    store.getState().setSelectedGPU(1);
    store.getState().setUpdateInterval(2000);
    store.getState().setTheme('light');
    store.getState().setTimeRange('6h');
    const saved = JSON.parse(storage.data.get(STORAGE_KEY) ?? '{}') as { state: Record<string, unknown> };
    expect(saved.state).toEqual({
      viewMode: 'compare',
      selectedGPU: 1,
      updateInterval: 2000,
      theme: 'light',
      timeRange: '6h',
    });

    const reloaded = createSystemMonitorStore({ api, storage, history: new LiveHistory(), streamEnabled: false });
    expect(reloaded.getState().viewMode).toBe('compare');
    expect(reloaded.getState().selectedGPU).toBe(1);
    expect(reloaded.getState().updateInterval).toBe(2000);
    expect(reloaded.getState().theme).toBe('light');
    expect(reloaded.getState().timeRange).toBe('6h');
  });

  it('falls back to the first GPU when the persisted one no longer exists', async () => {
    const api = fakeApi();
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    store.setState({ selectedGPU: 7, gpuList: makeResponse(0, 2).gpu_list });
    await store.getState().fetchAllMetrics();
    expect(api.calls).toEqual([0]);
    expect(store.getState().selectedGPU).toBe(0);
  });

  it('ignores an answer for a GPU that is no longer selected', async () => {
    let release: (() => void) | undefined;
    const api = fakeApi();
    api.getAllMonitoringData = vi.fn(
      (gpuId: number) =>
        new Promise<MonitoringDataResponse>((resolve) => {
          release = () => resolve(makeResponse(gpuId));
        }),
    );
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    const pending = store.getState().fetchAllMetrics();
    store.setState({ selectedGPU: 1 });
    release?.();
    await pending;
    expect(store.getState().gpuMetrics).toBeNull();
  });

  it('fetches every GPU in compare mode and records them all in the history', async () => {
    const api = fakeApi();
    const history = new LiveHistory();
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history, streamEnabled: false });
    store.getState().setViewMode('compare');
    await store.getState().fetchAllMetrics();
    expect(api.getAllGPUs).toHaveBeenCalled();
    expect(store.getState().allGPUs).toHaveLength(2);
    expect(history.hasGPU(0) && history.hasGPU(1)).toBe(true);
  });

  it('the navigation status treats 503 as "no GPU", not as the server being down', async () => {
    const api = fakeApi();
    api.getAllGPUs = vi.fn(async () => {
      throw new ApiError('GPU monitoring not available on this system', 503);
    });
    const store = createSystemMonitorStore({ api, storage: memoryStorage(), history: new LiveHistory(), streamEnabled: false });
    await store.getState().fetchAllGPUs();
    expect(store.getState().compactError).toBe(false);
    expect(store.getState().allGPUs).toEqual([]);
    api.getAllGPUs = vi.fn(async () => {
      throw new ApiError('Cannot reach the GPU Sentinel server', null);
    });
    await store.getState().fetchAllGPUs();
    expect(store.getState().compactError).toBe(true);
  });

  it('takes live values from the stream in the same shape as polling, with the token in the URL', async () => {
    const api = fakeApi();
    const sockets: { url: string; onopen?: () => void; onmessage?: (event: { data: string }) => void; close: () => void }[] = [];
    const store = createSystemMonitorStore({
      api,
      storage: memoryStorage(),
      history: new LiveHistory(),
      streamEnabled: true,
      token: () => 'tok',
      createSocket: (url) => {
        const socket = { url, close: () => undefined };
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    store.getState().startPolling(500);
    await flush();
    expect(sockets[0]?.url).toMatch(/\/api\/v1\/stream\?rate=2&token=tok$/);
    sockets[0]?.onopen?.();
    expect(store.getState().transport).toBe('stream');
    const frame = {
      type: 'snapshot',
      seq: 1,
      timestamp: 1_700_000_002,
      gpu_available: true,
      gpus: [makeGPU(0, { temperature: 41 }), makeGPU(1, { temperature: 77 })],
      gpu_processes: [{ pid: 5, process_name: 'job', gpu_memory_mb: 1, cpu_percent: 1, gpu_id: 1 }],
      system_metrics: makeResponse().system_metrics,
    };
    sockets[0]?.onmessage?.({ data: JSON.stringify(frame) });
    expect(store.getState().gpuMetrics?.temperature).toBe(41);
    expect(store.getState().allGPUs).toHaveLength(2);
    expect(store.getState().storageInfo).toHaveLength(1); // from the first poll, which frames cannot carry
    expect(store.getState().snapshotTime).toBe(1_700_000_002_000);

    // Switching GPU shows the new one's values from the last frame at once.
    store.getState().setSelectedGPU(1);
    expect(store.getState().gpuMetrics?.temperature).toBe(77);
    expect(store.getState().gpuProcesses.map((process) => process.pid)).toEqual([5]);
    store.getState().stopPolling();
  });
});
