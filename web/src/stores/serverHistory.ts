/**
 * What the server's history adds to the charts: the past before this page opened (backfilled under the
 * live points for 1 h / 6 h / 24 h) and the 7 d / 30 d ranges, read from the server alone.
 */
import { create } from 'zustand';
import { historyApi } from '../api/history';
import type { TimeRange } from '../types/system';
import { TrendTable } from '../utils/trendTable';
import { isLiveRange, liveHistory } from './liveHistory';
import { useLiveTarget } from './liveTarget';

/** How often a server-only range is read again; its buckets are minutes wide. */
export const LONG_RANGE_REFRESH_MS = 60_000;

interface ServerHistoryState {
  /** null until probed. */
  available: boolean | null;
  /** Bumped whenever history data changed, so charts recompute. */
  version: number;
  longRange: { range: TimeRange; table: TrendTable } | null;
  loading: boolean;
  error: string | null;
  probe: () => Promise<void>;
  load: (range: TimeRange) => Promise<void>;
  /** Forget what was backfilled (after an outage the server has points this page missed). */
  invalidate: () => void;
}

const backfilled = new Set<TimeRange>();
let probing: Promise<void> | null = null;

export const useServerHistory = create<ServerHistoryState>()((set, get) => ({
  available: null,
  version: 0,
  longRange: null,
  loading: false,
  error: null,

  probe: () => {
    probing ??= historyApi.isAvailable().then((available) => set({ available }));
    return probing;
  },

  load: async (range) => {
    if (!get().available) return;
    if (isLiveRange(range) && backfilled.has(range)) return;
    const node = useLiveTarget.getState().node;
    set({ loading: true });
    try {
      const table = new TrendTable(await historyApi.getTrends(range, undefined, node));
      // The page moved to another node meanwhile: these points are not its.
      if (useLiveTarget.getState().node !== node) {
        set({ loading: false });
        return;
      }
      if (isLiveRange(range)) {
        liveHistory.backfill(range, table);
        backfilled.add(range);
        set((state) => ({ version: state.version + 1, loading: false, error: null }));
      } else {
        set((state) => ({ longRange: { range, table }, version: state.version + 1, loading: false, error: null }));
      }
    } catch (error) {
      set({ loading: false, error: error instanceof Error ? error.message : 'History unavailable' });
    }
  },

  invalidate: () => {
    backfilled.clear();
  },
}));

// Another node's charts start from nothing: what was backfilled (and the long range) was the last one's.
useLiveTarget.subscribe((state, previous) => {
  if (state.node === previous.node) return;
  backfilled.clear();
  useServerHistory.setState((history) => ({ longRange: null, version: history.version + 1 }));
});
