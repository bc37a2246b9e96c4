import { useEffect, useMemo, useRef } from 'react';
import { isLiveRange, liveHistory } from '../stores/liveHistory';
import { LONG_RANGE_REFRESH_MS, useServerHistory } from '../stores/serverHistory';
import { useSystemMonitorStore } from '../stores/systemMonitorStore';
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
 * underneath them when the service keeps it. Recomputed only when data changed.
 */
export function useHistoricalData(range: TimeRange, gpuIds: readonly number[]): HistoricalData {
  const lastFetch = useSystemMonitorStore((state) => state.lastSuccessfulFetch);
  const allGPUs = useSystemMonitorStore((state) => state.allGPUs);
  const isConnected = useSystemMonitorStore((state) => state.isConnected);
  const available = useServerHistory((state) => state.available);
  const version = useServerHistory((state) => state.version);
  const longRange = useServerHistory((state) => state.longRange);
  const historyError = useServerHistory((state) => state.error);
  const wasConnected = useRef(isConnected);

  useEffect(() => {
    void useServerHistory.getState().probe();
  }, []);

  // After an outage the server has points this page never saw: read them again.
  useEffect(() => {
    if (isConnected && !wasConnected.current && lastFetch !== null) {
      useServerHistory.getState().invalidate();
      if (available) void useServerHistory.getState().load(range);
    }
    wasConnected.current = isConnected;
  }, [isConnected, available, range, lastFetch]);

  useEffect(() => {
    if (!available) return undefined;
    const { load } = useServerHistory.getState();
    void load(range);
    if (isLiveRange(range)) return undefined;
    const timer = setInterval(() => void load(range), LONG_RANGE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [available, range]);

  const idsKey = gpuIds.join(',');
  const charts = useMemo(() => {
    if (isLiveRange(range)) return buildLiveCharts(liveHistory, range, gpuIds, Date.now());
    if (longRange?.range === range) return buildTrendCharts(longRange.table, gpuIds);
    return EMPTY_SET;
    // lastFetch, allGPUs and version stand for "the history changed".
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [range, idsKey, lastFetch, allGPUs, version, longRange]);

  const source = !available
    ? 'Live points kept in this tab'
    : historyError
      ? `Server history unavailable (${historyError}); showing live points`
      : isLiveRange(range)
        ? 'Server history + live points'
        : 'Server history';
  return { charts, serverHistory: available === true, source };
}
