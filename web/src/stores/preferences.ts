/**
 * What the user chose, remembered per browser: view, GPU, update interval, theme, time range, the panel
 * layout of each view (which a signed-in user's server copy replaces, see layoutSync.ts), and on the
 * charts the series hidden from the legend and whether the min–max band shows.
 * Nothing live is kept here, so a change of preference never waits for, or is undone by, a frame.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware';
import type { Theme, TimeRange, UpdateInterval, ViewMode } from '../types/system';
import {
  DEFAULT_LAYOUTS,
  layoutReducer,
  normalizeLayouts,
  type DashboardLayouts,
  type LayoutAction,
} from '../utils/panelLayout';

export interface Preferences {
  viewMode: ViewMode;
  selectedGPU: number;
  updateInterval: UpdateInterval;
  theme: Theme;
  timeRange: TimeRange;
  layouts: DashboardLayouts;
  /** Series hidden on every chart, by series id (`gpu:3`, `cpu`, `ram`). */
  hiddenSeries: string[];
  showMinMax: boolean;
}

export interface PreferencesState extends Preferences {
  setViewMode: (mode: ViewMode) => void;
  setSelectedGPU: (gpuId: number) => void;
  setUpdateInterval: (interval: UpdateInterval) => void;
  setTheme: (theme: Theme) => void;
  setTimeRange: (range: TimeRange) => void;
  changeLayout: (action: LayoutAction) => void;
  /** Replace both views' layouts (the server's copy); whatever it lacks takes its default place. */
  setLayouts: (layouts: unknown) => void;
  /** Hide a shown series, or show a hidden one, on every chart. */
  setSeriesHidden: (seriesId: string, hidden: boolean) => void;
  setShowMinMax: (show: boolean) => void;
}

/** `hidden` with `seriesId` added or removed; the same array when nothing changes. */
export function withSeriesHidden(hidden: readonly string[], seriesId: string, hide: boolean): string[] {
  const has = hidden.includes(seriesId);
  if (has === hide) return hidden as string[];
  return hide ? [...hidden, seriesId] : hidden.filter((id) => id !== seriesId);
}

export type PreferencesStore = UseBoundStore<StoreApi<PreferencesState>>;

export const STORAGE_KEY = 'gpu-sentinel.settings';

function preferredTheme(): Theme {
  if (typeof window !== 'undefined' && typeof window.matchMedia === 'function') {
    return window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  return 'dark';
}

export function createPreferencesStore(storage?: StateStorage): PreferencesStore {
  return create<PreferencesState>()(
    persist(
      (set) => ({
        viewMode: 'single',
        selectedGPU: 0,
        updateInterval: 1000,
        theme: preferredTheme(),
        timeRange: '1h',
        hiddenSeries: [],
        showMinMax: false,
        setViewMode: (viewMode) => set({ viewMode }),
        setSelectedGPU: (selectedGPU) => set({ selectedGPU }),
        setUpdateInterval: (updateInterval) => set({ updateInterval }),
        setTheme: (theme) => set({ theme }),
        setTimeRange: (timeRange) => set({ timeRange }),
        layouts: DEFAULT_LAYOUTS,
        changeLayout: (action) => set((state) => ({ layouts: layoutReducer(state.layouts, action) })),
        setLayouts: (layouts) => set({ layouts: normalizeLayouts(layouts) }),
        setSeriesHidden: (seriesId, hidden) =>
          set((state) => ({ hiddenSeries: withSeriesHidden(state.hiddenSeries, seriesId, hidden) })),
        setShowMinMax: (showMinMax) => set({ showMinMax }),
      }),
      {
        name: STORAGE_KEY,
        version: 1,
        storage: createJSONStorage(() => storage ?? localStorage),
        partialize: (state): Preferences => ({
          viewMode: state.viewMode,
          selectedGPU: state.selectedGPU,
          updateInterval: state.updateInterval,
          theme: state.theme,
          timeRange: state.timeRange,
          layouts: state.layouts,
          hiddenSeries: state.hiddenSeries,
          showMinMax: state.showMinMax,
        }),
        // A layout saved by another version of the dashboard is made whole on the way in.
        merge: (persisted, current) => {
          const saved = (persisted ?? {}) as Partial<Preferences>;
          return { ...current, ...saved, layouts: normalizeLayouts(saved.layouts) };
        },
      },
    ),
  );
}

export const usePreferences = createPreferencesStore();
