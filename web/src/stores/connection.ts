/**
 * How the page is connected to the server: one state for the navigation bar and every page, so nothing
 * shows fresh numbers next to "Updates stopped".
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { ApiError } from '../api/client';
import type { Transport } from '../stream/liveSource';

/** Spec 003 §8.2, as amended: after this many failures in a row the page says it stopped (it still probes). */
export const MAX_CONSECUTIVE_ERRORS = 5;

/** Why updates fail: decides the banner's one sentence. */
export type FailureCause = 'unreachable' | 'server' | 'gpu' | 'signed-out';

export interface ConnectionState {
  /** The live loop runs (the page is signed in and open). */
  running: boolean;
  transport: Transport;
  /** Failed polls in a row; 0 while updates arrive. */
  failures: number;
  cause: FailureCause | null;
  /** The server's own words about the last failure, when it sent any. */
  detail: string | null;
  /** Client time (ms) of the last update that arrived. */
  lastUpdate: number | null;
  /** Retry was pressed and no answer has come yet. */
  retrying: boolean;
}

export type ConnectionStore = UseBoundStore<StoreApi<ConnectionState>>;

export const INITIAL_CONNECTION: ConnectionState = {
  running: false,
  transport: 'polling',
  failures: 0,
  cause: null,
  detail: null,
  lastUpdate: null,
  retrying: false,
};

export function createConnectionStore(): ConnectionStore {
  return create<ConnectionState>()(() => ({ ...INITIAL_CONNECTION }));
}

export const useConnection = createConnectionStore();

/** What kind of failure an API error is. */
export function failureCause(error: unknown): FailureCause {
  if (error instanceof ApiError) {
    if (error.status === null) return 'unreachable';
    if (error.status === 401 || error.status === 403) return 'signed-out';
    if (error.status === 503 && error.code === 'gpu_unavailable') return 'gpu';
    return 'server';
  }
  // fetch() rejects with a TypeError when the network fails.
  return error instanceof TypeError ? 'unreachable' : 'server';
}

export type LivePhase = 'connecting' | 'live' | 'failing' | 'stopped' | 'paused';

/** What the indicator and banner show: stopped after five failures, even though probing goes on. */
export function livePhase(state: ConnectionState): LivePhase {
  if (state.failures >= MAX_CONSECUTIVE_ERRORS) return 'stopped';
  if (state.failures > 0) return 'failing';
  if (!state.running) return 'paused';
  return state.lastUpdate === null ? 'connecting' : 'live';
}
