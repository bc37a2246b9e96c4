/**
 * Whose live data the System Monitor shows: this server's own (null), or, on a hub, one node of the
 * fleet by name. The live controller, the server history and the page's header all follow it.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';

export interface LiveTargetState {
  node: string | null;
}

export type LiveTargetStore = UseBoundStore<StoreApi<LiveTargetState>>;

export function createLiveTargetStore(): LiveTargetStore {
  return create<LiveTargetState>()(() => ({ node: null }));
}

export const useLiveTarget = createLiveTargetStore();

/** Show `node`'s live data (null: this server's). */
export function showNode(node: string | null, store: LiveTargetStore = useLiveTarget): void {
  if (store.getState().node !== node) store.setState({ node });
}
