/**
 * The service's metric catalogue (`GET /api/v1/metrics`): every reading's label, unit and format, as the
 * registry on the server declares them. The dashboard names no metric itself; it looks them up here.
 */
import { create } from 'zustand';
import { getJson } from '../api/client';
import type { components } from '../types/api.gen';
import type { Band } from '../utils/metricHelpers';

export type MetricEntry = components['schemas']['MetricEntry'];
type MetricCatalogue = components['schemas']['MetricCatalogue'];

/** The readings the dashboard colours by level, by registry key. */
export const LEVEL_METRICS = {
  gpuUtilization: 'gpu.utilization_pct',
  gpuMemory: 'gpu.memory_used_pct',
  temperature: 'gpu.temperature_c',
  power: 'gpu.power_limit_pct',
  cpu: 'host.cpu_pct',
  ram: 'host.memory_used_pct',
  swap: 'host.swap_used_pct',
  storage: 'filesystem.used_pct',
} as const;

export type LevelBands = Readonly<Partial<Record<keyof typeof LEVEL_METRICS, Band>>>;

/** Each coloured reading's band, as the catalogue publishes it (absent where it publishes none). */
export function bandsFrom(byKey: ReadonlyMap<string, MetricEntry>): LevelBands {
  const bands: Partial<Record<keyof typeof LEVEL_METRICS, Band>> = {};
  for (const [name, key] of Object.entries(LEVEL_METRICS) as [keyof typeof LEVEL_METRICS, string][]) {
    const thresholds = byKey.get(key)?.thresholds;
    if (thresholds) bands[name] = { warning: thresholds.warning, critical: thresholds.critical };
  }
  return bands;
}

interface CatalogueState {
  /** Entries by scope and dotted path in the live responses (`gpu:pcie.replay_count`); empty until loaded. */
  byField: ReadonlyMap<string, MetricEntry>;
  /** Entries by registry key (`gpu.remapped_rows_pending`), for readings without a flat API field. */
  byKey: ReadonlyMap<string, MetricEntry>;
  /** Warning and critical levels of the coloured readings; empty until loaded. */
  bands: LevelBands;
  loaded: boolean;
  load: () => Promise<void>;
  /** Read the catalogue again: its levels follow an admin's edit of a built-in alert rule. */
  reload: () => Promise<void>;
}

let loading: Promise<void> | null = null;

export function indexByField(entries: readonly MetricEntry[]): Map<string, MetricEntry> {
  const byField = new Map<string, MetricEntry>();
  for (const entry of entries) {
    // GPU and host share field paths (`memory.used_gb`): the key says which scope it is.
    if (entry.api_field) byField.set(`${entry.scope}:${entry.api_field}`, entry);
  }
  return byField;
}

export const useMetricCatalogue = create<CatalogueState>()((set, get) => ({
  byField: new Map(),
  byKey: new Map(),
  bands: {},
  loaded: false,
  load: () => {
    loading ??= getJson<MetricCatalogue>('/metrics')
      .then((catalogue) => {
        const byKey = new Map(catalogue.metrics.map((entry) => [entry.key, entry]));
        set({ byField: indexByField(catalogue.metrics), byKey, bands: bandsFrom(byKey), loaded: true });
      })
      .catch(() => {
        loading = null; // try again on the next mount
      });
    return loading;
  },
  reload: async () => {
    await loading;
    loading = null;
    return get().load();
  },
}));

/** The levels every coloured value, bar and chart threshold line uses. */
export function useLevelBands(): LevelBands {
  return useMetricCatalogue((state) => state.bands);
}

export type MetricScope = 'gpu' | 'host';

/** The unit to print beside the value at `api_field`: the API's own where it scales the base unit. */
export function displayUnit(entry: MetricEntry): string {
  if (entry.format === 'bytes' || entry.format === 'bytes_per_s') return entry.api_unit ?? entry.unit;
  if (entry.format === 'count' || entry.format === 'number' || entry.format === 'flag') return '';
  return entry.unit;
}

/** A reading's entry; undefined until the catalogue has loaded (or where the server lacks it). */
export function useMetricEntry(scope: MetricScope, field: string): MetricEntry | undefined {
  return useMetricCatalogue((state) => state.byField.get(`${scope}:${field}`));
}

/** A reading's label by registry key, falling back to the key itself until the catalogue has loaded. */
export function useMetricLabel(key: string): string {
  return useMetricCatalogue((state) => state.byKey.get(key)?.label ?? key);
}

/** The unit of a history series (`gpu_utilization`), as the catalogue gives it; empty until loaded. */
export function useHistoryUnit(historyName: string): string {
  return useMetricCatalogue((state) => {
    for (const entry of state.byKey.values()) if (entry.history_name === historyName) return entry.history_unit ?? '';
    return '';
  });
}

/** Read a dotted path (`health.ecc.corrected_volatile`) out of a live object. */
export function readField(source: unknown, field: string): unknown {
  let value: unknown = source;
  for (const part of field.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
