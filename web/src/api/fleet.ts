import { ApiError, getJson, sendJson } from './client';
import type { components } from '../types/api.gen';

/** The fleet API of a hub (`/api/v1/fleet`): every node sharing the database, and each node's latest state. */

type Schemas = components['schemas'];

export type FleetNode = Schemas['FleetNode'];
export type FleetNodesResponse = Schemas['FleetNodesResponse'];
export type FleetGPU = Schemas['FleetGPU'];
export type FleetGPUsResponse = Schemas['FleetGPUsResponse'];
export type NodeSnapshot = Schemas['NodeSnapshotResponse'];
export type FleetAlert = Schemas['FleetAlert'];
export type FleetAlertsResponse = Schemas['FleetAlertsResponse'];
export type NodeStatus = FleetNode['status'];

export interface GPUFilters {
  /** At least this much free memory, GiB. */
  minFreeGiB?: number;
  /** Part of the model name. */
  model?: string;
  state?: FleetGPU['state'];
  sort?: 'node' | 'memory_free_gib' | 'utilization_pct';
  order?: 'asc' | 'desc';
}

export function gpusQuery(filters: GPUFilters): string {
  const params = new URLSearchParams();
  if (filters.minFreeGiB !== undefined) params.set('min_free_gb', String(filters.minFreeGiB));
  if (filters.model) params.set('model', filters.model);
  if (filters.state) params.set('state', filters.state);
  if (filters.sort) params.set('sort', filters.sort);
  if (filters.order) params.set('order', filters.order);
  const query = params.toString();
  return query ? `?${query}` : '';
}

export const fleetApi = {
  /** Resolves to false when this server is not a hub (404 `not_a_hub`); other failures reject. */
  async isHub(signal?: AbortSignal): Promise<boolean> {
    try {
      await getJson('/fleet/nodes', { signal });
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  },
  getNodes(signal?: AbortSignal): Promise<FleetNodesResponse> {
    return getJson('/fleet/nodes', { signal });
  },
  getGPUs(filters: GPUFilters = {}, signal?: AbortSignal): Promise<FleetGPUsResponse> {
    return getJson(`/fleet/gpus${gpusQuery(filters)}`, { signal });
  },
  getNodeSnapshot(node: string, signal?: AbortSignal): Promise<NodeSnapshot> {
    return getJson(`/fleet/nodes/${encodeURIComponent(node)}/snapshot`, { signal });
  },
  /** The fleet alerts ("Node offline", "GPU unresponsive") firing now, then every node's own, the same on every hub. */
  alerts(): Promise<FleetAlertsResponse> {
    return getJson('/fleet/alerts');
  },
  /** Admins only; any hub takes it, and the one evaluating the fleet rules stops repeating the alert. */
  acknowledgeAlert(alertId: string): Promise<FleetAlert> {
    return sendJson('POST', `/fleet/alerts/${encodeURIComponent(alertId)}/ack`, {});
  },
};
