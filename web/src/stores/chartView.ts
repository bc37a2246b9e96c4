/**
 * What the trend charts of a page share while it is open: the zoomed time window. Dragging across one
 * chart zooms them all; "Back to live" on any returns them all to following the live edge. The
 * crosshair is shared by uPlot's own cursor sync under `CHART_SYNC_KEY`.
 */
import { create } from 'zustand';

export const CHART_SYNC_KEY = 'gpu-sentinel-trends';

/** A time window in Unix seconds (uPlot's x unit). */
export interface TimeWindow {
  min: number;
  max: number;
}

interface ChartViewState {
  /** Null while the charts follow live data. */
  zoom: TimeWindow | null;
  zoomTo: (window: TimeWindow) => void;
  backToLive: () => void;
}

export const useChartView = create<ChartViewState>()((set) => ({
  zoom: null,
  zoomTo: (window) => {
    if (window.max > window.min) set({ zoom: window });
  },
  backToLive: () => set({ zoom: null }),
}));
