/**
 * The alert transitions of the charts' time range, read from `/api/v1/alerts/history`, and read again
 * when the stream reports a firing or resolved alert. Empty where alerting is off or unreachable: the
 * charts then simply draw no markers.
 */
import { create } from 'zustand';
import { alertsApi } from '../api/alerts';
import type { AlertHistoryItem } from '../types/alerts';

/** The most transitions one range draws; the history returns the newest first. */
const MAX_TRANSITIONS = 1000;

interface AlertTransitionsState {
  items: AlertHistoryItem[];
  load: (fromSeconds: number) => Promise<void>;
}

let latestRequest = 0;

export const useAlertTransitions = create<AlertTransitionsState>()((set) => ({
  items: [],
  load: async (fromSeconds) => {
    const request = ++latestRequest;
    try {
      const page = await alertsApi.history({ start: Math.floor(fromSeconds), limit: MAX_TRANSITIONS, offset: 0 });
      if (request === latestRequest) set({ items: page.items });
    } catch {
      if (request === latestRequest) set({ items: [] });
    }
  },
}));
