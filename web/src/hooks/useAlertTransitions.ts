import { useEffect } from 'react';
import { useAlertsStore } from '../stores/alertsStore';
import { useAlertTransitions } from '../stores/alertTransitions';
import { LIVE_RANGE_TIERS, isLiveRange } from '../stores/liveHistory';
import type { AlertHistoryItem } from '../types/alerts';
import type { TimeRange } from '../types/system';

const DAY_MS = 86_400_000;
const SERVER_RANGE_SPAN_MS: Record<'7d' | '30d', number> = { '7d': 7 * DAY_MS, '30d': 30 * DAY_MS };
/** Transitions the stream did not announce (another node, a missed event) still appear within this. */
const REFRESH_MS = 60_000;

export function rangeSpanMs(range: TimeRange): number {
  return isLiveRange(range) ? LIVE_RANGE_TIERS[range].spanMs : SERVER_RANGE_SPAN_MS[range];
}

/** The alert transitions of `range`, read again on every firing or resolved event and every minute. */
export function useAlertTransitionsOf(range: TimeRange): AlertHistoryItem[] {
  const transitionCount = useAlertsStore((state) => state.transitionCount);
  useEffect(() => {
    const load = () => void useAlertTransitions.getState().load((Date.now() - rangeSpanMs(range)) / 1000);
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, [range, transitionCount]);
  return useAlertTransitions((state) => state.items);
}
