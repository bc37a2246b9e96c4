/**
 * Keeps the live data flowing (spec 003 §5.1, §8): stream or polling through LiveSource, every update
 * folded into the live history and published as one frame, failures counted in the connection state.
 * The only writer of the live data and connection stores. On a hub it can show one node of the fleet
 * instead of this server (the live target): that node's stream and snapshot, read from the hub.
 */
import { ApiError, currentToken } from '../api/client';
import { fleetApi, type NodeSnapshot } from '../api/fleet';
import { systemApi } from '../api/system';
import { emitAlertEvent } from '../stream/alertEvents';
import { LiveSource, streamUrl, type SnapshotFrame } from '../stream/liveSource';
import { errorMessage } from '../utils/errors';
import { failureCause, useConnection, type ConnectionStore } from './connection';
import { liveHistory as defaultHistory, type LiveHistory } from './liveHistory';
import { resolveGPU, useLiveData, type LiveDataStore, type LiveFrame } from './liveData';
import { useLiveTarget, type LiveTargetStore } from './liveTarget';
import { usePreferences, type PreferencesStore } from './preferences';
import type { AllGPUsResponse, GPUInfo, MonitoringDataResponse } from '../types/system';

export interface MonitorApi {
  getAllMonitoringData(gpuId: number): Promise<MonitoringDataResponse>;
  getAllGPUs(): Promise<AllGPUsResponse>;
}

/** A node of the fleet, as a hub serves it. */
export interface NodeMonitorApi {
  getNodeSnapshot(node: string): Promise<NodeSnapshot>;
}

export interface LiveDeps {
  api?: MonitorApi;
  nodeApi?: NodeMonitorApi;
  target?: LiveTargetStore;
  history?: LiveHistory;
  now?: () => number;
  streamEnabled?: boolean;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
  token?: () => string | null;
  preferences?: PreferencesStore;
  connection?: ConnectionStore;
  data?: LiveDataStore;
}

export interface LiveController {
  start(): void;
  stop(): void;
  /** Try again at once (the banner's Retry). */
  retry(): void;
  /** The token changed: the stream reconnects with the new one. */
  reconnect(): void;
  /** Stop everything the controller subscribed to (tests). */
  dispose(): void;
}

/** Frames per second to ask the stream for: one per update interval. */
export function streamRateHz(intervalMs: number): number {
  return Math.round((1000 / intervalMs) * 100) / 100;
}

/** A stream frame as the next live frame: its live values, the previous frame's GPU list and storage. */
export function frameFromStream(message: SnapshotFrame, previous: LiveFrame | null): LiveFrame | null {
  const system = message.system_metrics ?? previous?.system ?? null;
  if (!system) return null;
  return {
    gpuAvailable: message.gpu_available,
    gpuStatus: previous?.gpuStatus ?? 'ok',
    gpuList: previous?.gpuList ?? [],
    gpus: message.gpus,
    system,
    processes: message.gpu_processes ?? previous?.processes ?? [],
    storage: previous?.storage ?? [],
    snapshotTime: message.timestamp * 1000,
  };
}

/** A poll's answers as a live frame; every GPU comes from `/system/gpus` when it answered. */
export function frameFromPoll(response: MonitoringDataResponse, all: AllGPUsResponse | null): LiveFrame {
  return {
    gpuAvailable: response.gpu_available,
    gpuStatus: response.gpu_status,
    gpuList: response.gpu_list,
    gpus: all ? all.gpus : response.gpu_metrics ? [response.gpu_metrics] : [],
    system: response.system_metrics,
    processes: all ? all.gpu_processes : response.gpu_processes,
    storage: response.storage,
    snapshotTime: response.timestamp ? response.timestamp * 1000 : null,
  };
}

/** What a node's snapshot tells of its GPUs: their driver and CUDA versions are the node's. */
export function gpuListFromSnapshot({ gpus, node }: Pick<NodeSnapshot, 'gpus' | 'node'>): GPUInfo[] {
  return gpus.map((gpu) => ({
    id: gpu.gpu_id,
    name: gpu.gpu_name,
    uuid: gpu.uuid ?? null,
    pci_bus_id: gpu.pci_bus_id ?? null,
    lost: gpu.lost,
    memory_total_gb: gpu.memory.total_gb,
    driver_version: node.driver_version,
    cuda_version: node.cuda_version,
    compute_capability: null,
  }));
}

/** A node's snapshot (from the hub) as a live frame: it carries everything a frame holds. */
export function frameFromNodeSnapshot(snapshot: NodeSnapshot): LiveFrame {
  return {
    gpuAvailable: snapshot.gpu_available,
    gpuStatus: snapshot.gpu_status,
    gpuList: gpuListFromSnapshot(snapshot),
    gpus: snapshot.gpus,
    system: snapshot.system_metrics,
    processes: snapshot.gpu_processes,
    storage: snapshot.storage,
    snapshotTime: snapshot.timestamp ? snapshot.timestamp * 1000 : null,
  };
}

export function createLiveController(deps: LiveDeps = {}): LiveController {
  const api = deps.api ?? systemApi;
  const nodeApi = deps.nodeApi ?? fleetApi;
  const target = deps.target ?? useLiveTarget;
  const history = deps.history ?? defaultHistory;
  const now = deps.now ?? Date.now;
  const token = deps.token ?? currentToken;
  const preferences = deps.preferences ?? usePreferences;
  const connection = deps.connection ?? useConnection;
  const data = deps.data ?? useLiveData;

  let source: LiveSource | null = null;
  let requestSeq = 0;
  let staticInFlight = false;

  /** The GPU the page shows: the preferred one, or the first listed when this server lacks it. The
   * preference itself stays, so a shared link or a later server with that GPU still opens it. */
  const chosenGPU = (): number => resolveGPU(data.getState().frame, preferences.getState().selectedGPU);

  const publish = (frame: LiveFrame): void => {
    // Client time, not the server's: every series in the history must share one clock.
    history.record(now(), frame.system, frame.gpus);
    data.setState({ frame });
    connection.setState({ failures: 0, cause: null, detail: null, lastUpdate: now(), retrying: false });
  };

  const fail = (error: unknown): void => {
    const cause = failureCause(error);
    const detail = cause === 'unreachable' ? null : errorMessage(error);
    connection.setState((state) => ({ failures: state.failures + 1, cause, detail, retrying: false }));
  };

  /** `/system/gpus` answers 503 when there is no GPU: that is a frame without GPUs, not a failure. */
  const everyGPU = (): Promise<AllGPUsResponse | null> =>
    api.getAllGPUs().catch((error: unknown) => {
      if (failureCause(error) === 'gpu') return { gpu_available: false, timestamp: 0, gpus: [], gpu_processes: [] };
      return null;
    });

  const pollNode = async (node: string): Promise<boolean> => {
    const seq = ++requestSeq;
    try {
      const snapshot = await nodeApi.getNodeSnapshot(node);
      if (seq === requestSeq) publish(frameFromNodeSnapshot(snapshot));
      return true;
    } catch (error) {
      if (seq === requestSeq) fail(error);
      return false;
    }
  };

  const poll = async (firstGPU = false): Promise<boolean> => {
    const node = target.getState().node;
    if (node !== null) return pollNode(node);
    const seq = ++requestSeq;
    const gpuId = firstGPU ? 0 : chosenGPU();
    try {
      const [response, all] = await Promise.all([api.getAllMonitoringData(gpuId), everyGPU()]);
      if (seq === requestSeq) publish(frameFromPoll(response, all));
      return true;
    } catch (error) {
      // The remembered GPU is gone from this server: show the first one instead.
      if (error instanceof ApiError && error.code === 'invalid_gpu_id' && gpuId !== 0) {
        return seq === requestSeq ? poll(true) : true;
      }
      if (seq === requestSeq) fail(error);
      return false;
    }
  };

  /** While streaming: refresh what frames lack (GPU list, storage) without touching the live values. */
  const fetchStatic = async (): Promise<void> => {
    if (staticInFlight) return;
    staticInFlight = true;
    const node = target.getState().node;
    try {
      const response =
        node === null
          ? await api.getAllMonitoringData(chosenGPU())
          : await nodeApi.getNodeSnapshot(node).then((snapshot) => ({
              gpu_list: gpuListFromSnapshot(snapshot),
              storage: snapshot.storage,
              gpu_status: snapshot.gpu_status,
            }));
      const frame = data.getState().frame;
      if (frame && target.getState().node === node) {
        data.setState({
          frame: { ...frame, gpuList: response.gpu_list, storage: response.storage, gpuStatus: response.gpu_status },
        });
      }
    } catch {
      // The stream carries the live values; a missed side poll only delays the GPU list and storage.
    } finally {
      staticInFlight = false;
    }
  };

  const onSnapshot = (message: SnapshotFrame): void => {
    const previous = data.getState().frame;
    const frame = frameFromStream(message, previous);
    if (!frame) return;
    publish(frame);
    // The first frame can beat the first poll: fetch the GPU list and storage it cannot carry.
    if (frame.gpuAvailable && frame.gpuList.length === 0) void fetchStatic();
  };

  const start = (): void => {
    source?.stop();
    const interval = preferences.getState().updateInterval;
    connection.setState({ running: true });
    source = new LiveSource({
      intervalMs: interval,
      poll: () => poll(),
      sidePoll: () => void fetchStatic(),
      onSnapshot,
      onAlert: emitAlertEvent,
      onTransport: (transport) => connection.setState({ transport }),
      // A node's stream sends every state the hub hears of, and takes no rate.
      url: (withRate) => {
        const node = target.getState().node;
        const rateHz = withRate && node === null ? streamRateHz(interval) : null;
        return streamUrl({ token: token(), rateHz, node, incremental: true });
      },
      ...(deps.streamEnabled !== undefined ? { streamEnabled: deps.streamEnabled } : {}),
      ...(deps.createSocket ? { createSocket: deps.createSocket } : {}),
    });
    source.start();
  };

  const stop = (): void => {
    source?.stop();
    source = null;
    connection.setState({ running: false });
  };

  /** Another node (or this server again): nothing of the last one may show under the new name. */
  const retarget = (): void => {
    requestSeq += 1;
    history.clear();
    data.setState({ frame: null });
    connection.setState({ failures: 0, cause: null, detail: null, lastUpdate: null, retrying: false });
    if (source) start();
  };
  const unsubscribeTarget = target.subscribe((state, previous) => {
    if (state.node !== previous.node) retarget();
  });

  const unsubscribe = preferences.subscribe((state, previous) => {
    if (!source) return;
    if (state.updateInterval !== previous.updateInterval) start();
    else if (state.selectedGPU !== previous.selectedGPU) {
      requestSeq += 1; // drop answers for the previous GPU
      if (connection.getState().transport === 'polling' && connection.getState().failures === 0) void poll();
    }
  });

  return {
    start,
    stop,
    retry: () => {
      connection.setState({ retrying: true });
      if (source) source.pollNow();
      else start();
    },
    reconnect: () => source?.reconnect(),
    dispose: () => {
      stop();
      unsubscribe();
      unsubscribeTarget();
    },
  };
}

export const liveController = createLiveController();
