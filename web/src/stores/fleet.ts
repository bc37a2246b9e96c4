/**
 * The fleet as the hub last described it: whether this server is a hub at all (the navigation offers the
 * Fleet page only then), and every node and GPU, polled while a fleet page is open.
 */
import { create } from 'zustand';
import { fleetApi, type FleetGPU, type FleetNode } from '../api/fleet';
import { errorMessage } from '../utils/errors';

/** How often an open fleet page asks the hub again: a node's status changes within a heartbeat or two. */
export const FLEET_REFRESH_MS = 2_000;

interface FleetState {
  /** null until probed; false on a server started without `--hub`. */
  hub: boolean | null;
  nodes: FleetNode[];
  gpus: FleetGPU[];
  /** Hub time (Unix seconds) of the last answer. */
  timestamp: number | null;
  error: string | null;
  probe: () => Promise<void>;
  refresh: () => Promise<void>;
}

let probing: Promise<void> | null = null;
let refreshing: Promise<void> | null = null;

export const useFleet = create<FleetState>()((set) => ({
  hub: null,
  nodes: [],
  gpus: [],
  timestamp: null,
  error: null,

  probe: () => {
    probing ??= fleetApi
      .isHub()
      .then((hub) => set({ hub }))
      .catch(() => {
        // Unreachable or refused for now: ask again next time rather than hide the page for good.
        probing = null;
      });
    return probing;
  },

  refresh: () => {
    refreshing ??= Promise.all([fleetApi.getNodes(), fleetApi.getGPUs()])
      .then(([nodes, gpus]) => set({ nodes: nodes.nodes, gpus: gpus.gpus, timestamp: nodes.timestamp, error: null }))
      .catch((error: unknown) => set({ error: errorMessage(error) }))
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  },
}));

/** Polls the hub until the returned function is called, each poll chained to the last's answer so slow answers never stack. */
export function startFleetPolling(intervalMs = FLEET_REFRESH_MS): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const tick = async () => {
    await useFleet.getState().refresh();
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}

export function findNode(nodes: readonly FleetNode[], name: string): FleetNode | undefined {
  return nodes.find((node) => node.name === name || node.id === name);
}
