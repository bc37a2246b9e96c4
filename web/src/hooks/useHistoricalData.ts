import { useEffect, useMemo, useRef } from 'react';
import { isLiveRange, liveHistory } from '../stores/liveHistory';
import { LONG_RANGE_REFRESH_MS, useServerHistory } from '../stores/serverHistory';
import { useConnection } from '../stores/connection';
import { useLiveData } from '../stores/liveData';
import { useLiveTarget } from '../stores/liveTarget';
import { usePreferences } from '../stores/preferences';
import { buildLiveCharts, buildTrendCharts, EMPTY_CHART, type ChartSet } from '../utils/chartData';
import type { TimeRange } from '../types/system';

const EMPTY_SET: ChartSet = { utilization: EMPTY_CHART, memory: EMPTY_CHART, temperature: EMPTY_CHART, power: EMPTY_CHART };

export interface HistoricalData {
  charts: ChartSet;
  /** Server history exists: 7 d / 30 d can be offered and exports work. */
  serverHistory: boolean;
  source: string;
}

/**
 * Chart columns for a time range and a set of GPUs (spec 003 §5.2). Live points always; server history
 * underneath them when the service keeps it; each line's min and max too while the band is shown.
 * Recomputed only when data changed.
 */
export function useHistoricalData(range: TimeRange, gpuIds: readonly number[]): HistoricalData {
  const frame = useLiveData((state) => state.frame);
  const isConnected = useConnection((state) => state.failures === 0 && state.lastUpdate !== null);
  const available = useServerHistory((state) => state.available);
  const version = useServerHistory((state) => state.version);
  const longRange = useServerHistory((state) => state.longRange);
  const historyError = useServerHistory((state) => state.error);
  // Whose history: a node of the fleet reads its own from the hub.
  const node = useLiveTarget((state) => state.node);
  const withBands = usePreferences((state) => state.showMinMax);
  const wasConnected = useRef(isConnected);
  const everConnected = useRef(false);

  useEffect(() => {
    void useServerHistory.getState().probe();
  }, []);

  // After an outage the server has points this page never saw: read them again.
  useEffect(() => {
    if (isConnected && !wasConnected.current && everConnected.current) {
      useServerHistory.getState().invalidate();
      if (available) void useServerHistory.getState().load(range);
    }
    if (isConnected) everConnected.current = true;
    wasConnected.current = isConnected;
  }, [isConnected, available, range]);

  useEffect(() => {
    if (!available) return undefined;
    const { load } = useServerHistory.getState();
    void load(range);
    if (isLiveRange(range)) return undefined;
    const timer = setInterval(() => void load(range), LONG_RANGE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [available, range, node]);

  const idsKey = gpuIds.join(',');
  const charts = useMemo(() => {
    if (isLiveRange(range)) return buildLiveCharts(liveHistory, range, gpuIds, Date.now(), withBands);
    if (longRange?.range === range) return buildTrendCharts(longRange.table, gpuIds, withBands);
    return EMPTY_SET;
    // frame and version stand for "the history changed".
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [range, idsKey, frame, version, longRange, withBands]);

  const source = !available
    ? 'Live points kept in this tab'
    : historyError
      ? `Server history unavailable (${historyError}); showing live points`
      : isLiveRange(range)
        ? 'Server history + live points'
        : 'Server history';
  return { charts, serverHistory: available === true, source };
}
