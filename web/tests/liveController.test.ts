import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/client';
import { createConnectionStore, livePhase, MAX_CONSECUTIVE_ERRORS } from '../src/stores/connection';
import { createLiveController, type LiveDeps, type MonitorApi } from '../src/stores/liveController';
import { createLiveDataStore, resolveGPU, selectGPU, selectProcesses } from '../src/stores/liveData';
import { LiveHistory } from '../src/stores/liveHistory';
import { createLiveTargetStore, showNode } from '../src/stores/liveTarget';
import { createPreferencesStore, STORAGE_KEY } from '../src/stores/preferences';
import { DEFAULT_LAYOUTS } from '../src/utils/panelLayout';
import { makeGPU, makeResponse, memoryStorage } from './fixtures';
import type { NodeSnapshot } from '../src/api/fleet';
import type { MonitoringDataResponse } from '../src/types/system';

function fakeApi(): MonitorApi & { failWith: ApiError | null; calls: number[] } {
  const api = {
    failWith: null as ApiError | null,
    calls: [] as number[],
    getAllMonitoringData: vi.fn(async (gpuId: number): Promise<MonitoringDataResponse> => {
      api.calls.push(gpuId);
      if (api.failWith) throw api.failWith;
      if (gpuId > 1) throw new ApiError(`Invalid GPU ID ${gpuId}`, 400, 'invalid_gpu_id');
      return makeResponse(gpuId);
    }),
    getAllGPUs: vi.fn(async () => {
      if (api.failWith) throw api.failWith;
      return {
        gpu_available: true,
        timestamp: 1,
        gpus: [makeGPU(0), makeGPU(1, { temperature: 77 })],
        gpu_processes: [{ pid: 5, process_name: 'job', gpu_memory_mb: 1, cpu_percent: 1, gpu_id: 1 }],
      };
    }),
  };
  return api;
}

function setup(overrides: Partial<LiveDeps> = {}) {
  const api = fakeApi();
  const storage = memoryStorage();
  const deps = {
    api,
    history: new LiveHistory(),
    streamEnabled: false,
    preferences: createPreferencesStore(storage),
    connection: createConnectionStore(),
    data: createLiveDataStore(),
    ...overrides,
  };
  const controller = createLiveController(deps);
  return { storage, controller, ...deps, api };
}

describe('live controller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads metrics on start and polls at the chosen interval', async () => {
    const { api, controller, data, connection } = setup();
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(selectGPU(data.getState().frame, 0)?.gpu_id).toBe(0);
    expect(livePhase(connection.getState())).toBe('live');
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.calls.length).toBe(4);
    controller.dispose();
  });

  it('says it stopped after five failures, keeps probing, and resumes by itself', async () => {
    const { api, controller, connection, data } = setup();
    api.failWith = new ApiError('Cannot reach the GPU Sentinel server', null);
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(connection.getState().failures).toBe(1);
    expect(connection.getState().cause).toBe('unreachable');
    expect(livePhase(connection.getState())).toBe('failing');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(connection.getState().failures).toBeGreaterThanOrEqual(MAX_CONSECUTIVE_ERRORS);
    expect(livePhase(connection.getState())).toBe('stopped');

    api.failWith = null;
    await vi.advanceTimersByTimeAsync(5000);
    expect(livePhase(connection.getState())).toBe('live');
    expect(connection.getState().cause).toBeNull();
    expect(data.getState().frame?.gpus).toHaveLength(2);
    controller.dispose();
  });

  it('Retry asks at once and recovers when the server is back', async () => {
    const { api, controller, connection } = setup();
    api.failWith = new ApiError('Internal error', 500);
    controller.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(livePhase(connection.getState())).toBe('stopped');
    expect(connection.getState().cause).toBe('server');
    expect(connection.getState().detail).toBe('Internal error');

    api.failWith = null;
    const calls = api.calls.length;
    controller.retry();
    expect(connection.getState().retrying).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.calls.length).toBe(calls + 1);
    expect(livePhase(connection.getState())).toBe('live');
    expect(connection.getState().retrying).toBe(false);
    controller.dispose();
  });

  it('replaces the frame whole on every update and records every GPU and the host in the history', async () => {
    const { controller, data, history } = setup();
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = data.getState().frame;
    await vi.advanceTimersByTimeAsync(1000);
    const second = data.getState().frame;
    expect(second).not.toBe(first);
    expect(first?.gpus).toHaveLength(2);
    expect(history.hasGPU(0) && history.hasGPU(1)).toBe(true);
    controller.dispose();
  });

  it('treats "no GPU" from /system/gpus as a frame without GPUs, not as the server being down', async () => {
    const { api, controller, data, connection } = setup();
    api.getAllGPUs = vi.fn(async () => {
      throw new ApiError('GPU monitoring not available on this system', 503, 'gpu_unavailable');
    });
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(data.getState().frame?.gpus).toEqual([]);
    expect(livePhase(connection.getState())).toBe('live');
    controller.dispose();
  });

  it('shows the first GPU when the remembered one is gone from the server', async () => {
    const { api, controller, preferences, data } = setup();
    preferences.getState().setSelectedGPU(7);
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(api.calls).toEqual([7, 0]);
    expect(resolveGPU(data.getState().frame, preferences.getState().selectedGPU)).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.calls).toEqual([7, 0, 0]); // the GPU list is known now: no more asking for GPU 7
    controller.dispose();
  });

  it('ignores an answer for a GPU that is no longer selected', async () => {
    let release: (() => void) | undefined;
    const { api, controller, preferences, data } = setup();
    api.getAllMonitoringData = vi.fn(
      (gpuId: number) =>
        new Promise<MonitoringDataResponse>((resolve) => {
          release = () => resolve({ ...makeResponse(gpuId), gpu_list: [] });
        }),
    );
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    const stale = release;
    preferences.getState().setSelectedGPU(1);
    stale?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(data.getState().frame).toBeNull();
    controller.dispose();
  });

  it('takes live values from the stream, with the token out of the URL, and switches GPU at once', async () => {
    const sockets: {
      url: string;
      protocols: string[];
      onopen?: () => void;
      onmessage?: (event: { data: string }) => void;
      close: () => void;
    }[] = [];
    const { controller, data, connection, preferences } = setup({
      streamEnabled: true,
      token: () => 'tok',
      createSocket: (url, protocols) => {
        const socket = { url, protocols, close: () => undefined };
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    preferences.getState().setUpdateInterval(500);
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets[0]?.url).toMatch(/\/api\/v1\/stream\?rate=2&mode=delta$/);
    expect(sockets[0]?.protocols).toEqual(['bearer', 'tok']);
    sockets[0]?.onopen?.();
    expect(connection.getState().transport).toBe('stream');
    const message = {
      type: 'snapshot',
      seq: 1,
      timestamp: 1_700_000_002,
      gpu_available: true,
      gpus: [makeGPU(0, { temperature: 41 }), makeGPU(1, { temperature: 79 })],
      gpu_processes: [{ pid: 6, process_name: 'job', gpu_memory_mb: 1, cpu_percent: 1, gpu_id: 1 }],
      system_metrics: makeResponse().system_metrics,
    };
    sockets[0]?.onmessage?.({ data: JSON.stringify(message) });
    const frame = data.getState().frame;
    expect(selectGPU(frame, 0)?.temperature).toBe(41);
    expect(frame?.storage).toHaveLength(1); // from the first poll, which frames cannot carry
    expect(frame?.snapshotTime).toBe(1_700_000_002_000);

    preferences.getState().setSelectedGPU(1);
    expect(selectGPU(data.getState().frame, 1)?.temperature).toBe(79);
    expect(selectProcesses(data.getState().frame, 1).map((process) => process.pid)).toEqual([6]);

    // The next frame comes as a delta: only GPU 1's temperature and the clock changed.
    const delta = { type: 'delta', seq: 2, base_seq: 1, patch: { seq: 2, timestamp: 1_700_000_003, gpus: { '1': { temperature: 83 } } } };
    sockets[0]?.onmessage?.({ data: JSON.stringify(delta) });
    const next = data.getState().frame;
    expect(selectGPU(next, 1)?.temperature).toBe(83);
    expect(selectGPU(next, 0)).toBe(selectGPU(frame, 0)); // unchanged GPU, same object
    expect(next?.snapshotTime).toBe(1_700_000_003_000);
    controller.dispose();
  });
});

describe('a fleet node as the live target', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function nodeSnapshot(name: string, gpuCount: number): NodeSnapshot {
    const response = makeResponse(0, gpuCount);
    return {
      node: {
        id: `${name}-id`,
        name,
        status: 'online',
        last_seen: 1_700_000_005,
        last_seen_age_s: 0.2,
        gpu_count: gpuCount,
        alerts_firing: 0,
        version: '1.0.0',
        driver_version: '550.54.15',
        cuda_version: '12.4',
      },
      gpu_available: true,
      gpu_status: 'ok',
      timestamp: 1_700_000_005,
      gpus: Array.from({ length: gpuCount }, (_, id) => makeGPU(id, { temperature: 30 + id, uuid: `GPU-${name}-${id}` })),
      gpu_processes: [],
      system_metrics: response.system_metrics,
      storage: [{ mount_point: '/data', used_gb: 1, total_gb: 2, used_percent: 50 }],
    };
  }

  it("polls the node's snapshot from the hub, forgets the previous target's points, and comes back", async () => {
    const target = createLiveTargetStore();
    const asked: string[] = [];
    const nodeApi = {
      getNodeSnapshot: vi.fn(async (name: string) => {
        asked.push(name);
        return nodeSnapshot(name, 3);
      }),
    };
    const { api, controller, data, history } = setup({ target, nodeApi });
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(data.getState().frame?.gpus).toHaveLength(2);
    const localPolls = api.calls.length;
    const versionBefore = history.version;

    showNode('gpu-b', target);
    expect(data.getState().frame).toBeNull(); // nothing of this server under the node's name
    expect(history.version).toBeGreaterThan(versionBefore);
    await vi.advanceTimersByTimeAsync(0);
    const frame = data.getState().frame;
    expect(asked).toEqual(['gpu-b']);
    expect(frame?.gpus.map((gpu) => gpu.uuid)).toEqual(['GPU-gpu-b-0', 'GPU-gpu-b-1', 'GPU-gpu-b-2']);
    expect(frame?.gpuList.map((gpu) => [gpu.id, gpu.memory_total_gb, gpu.driver_version, gpu.cuda_version])).toEqual([
      [0, 80, '550.54.15', '12.4'],
      [1, 80, '550.54.15', '12.4'],
      [2, 80, '550.54.15', '12.4'],
    ]);
    expect(frame?.storage[0]?.mount_point).toBe('/data');
    await vi.advanceTimersByTimeAsync(2000);
    expect(asked.length).toBeGreaterThan(1);
    expect(api.calls.length).toBe(localPolls); // this server is not asked meanwhile

    showNode(null, target);
    await vi.advanceTimersByTimeAsync(0);
    expect(data.getState().frame?.gpus).toHaveLength(2);
    expect(api.calls.length).toBeGreaterThan(localPolls);
    controller.dispose();
  });

  it("streams the node from the hub without a rate, which a node's stream does not take", async () => {
    const target = createLiveTargetStore();
    const urls: string[] = [];
    const { controller } = setup({
      target,
      nodeApi: { getNodeSnapshot: async (name: string) => nodeSnapshot(name, 1) },
      streamEnabled: true,
      createSocket: (url) => {
        urls.push(url);
        return { close: () => undefined } as unknown as WebSocket;
      },
    });
    controller.start();
    await vi.advanceTimersByTimeAsync(0);
    showNode('rack 4', target);
    await vi.advanceTimersByTimeAsync(0);
    expect(urls.at(-1)).toMatch(/\/api\/v1\/stream\?node=rack\+4&mode=delta$/); // no rate=
    controller.dispose();
  });
});

describe('preferences', () => {
  it('persists view mode, selected GPU, interval, theme, time range, layouts and chart options, and nothing else', () => {
    const storage = memoryStorage();
    const store = createPreferencesStore(storage);
    store.getState().setViewMode('compare');
    store.getState().setSelectedGPU(1);
    store.getState().setUpdateInterval(2000);
    store.getState().setTheme('light');
    store.getState().setTimeRange('6h');
    store.getState().setSeriesHidden('gpu:3', true);
    store.getState().setShowMinMax(true);
    const saved = JSON.parse(storage.data.get(STORAGE_KEY) ?? '{}') as { state: Record<string, unknown> };
    expect(saved.state).toEqual({
      viewMode: 'compare',
      selectedGPU: 1,
      updateInterval: 2000,
      theme: 'light',
      timeRange: '6h',
      layouts: DEFAULT_LAYOUTS,
      hiddenSeries: ['gpu:3'],
      showMinMax: true,
    });

    const reloaded = createPreferencesStore(storage).getState();
    expect([reloaded.viewMode, reloaded.selectedGPU, reloaded.updateInterval, reloaded.theme, reloaded.timeRange]).toEqual([
      'compare',
      1,
      2000,
      'light',
      '6h',
    ]);
  });
});
