import { useMemo, useRef } from 'react';
import { TREND_METRICS } from '../../api/history';
import { useHistoryUnit, useLevelBands, useMetricCatalogue } from '../../stores/metricCatalogue';
import type { AlertHistoryItem } from '../../types/alerts';
import type { Theme } from '../../types/system';
import { chartMarkers, sameMarkers, type AlertMarker, type ChartAlertMetrics } from '../../utils/alertMarkers';
import { formatHoverTime, seriesId, type ChartData } from '../../utils/chartData';
import { TimeSeriesChart, type Threshold } from './TimeSeriesChart';

interface ChartProps {
  data: ChartData;
  theme: Theme;
  /** The range's alert transitions; each chart draws those of its own metrics and series. */
  transitions: readonly AlertHistoryItem[];
}

type Owner = 'gpu' | 'cpu' | 'ram';

/** Registry keys whose alerts belong on each chart, and whose series they mark. */
const ALERT_READINGS: Record<'utilization' | 'memory' | 'temperature' | 'power', Record<string, Owner>> = {
  utilization: { 'gpu.utilization_pct': 'gpu', 'host.cpu_pct': 'cpu' },
  memory: {
    'gpu.memory_used_bytes': 'gpu',
    'gpu.memory_used_pct': 'gpu',
    'host.memory_used_bytes': 'ram',
    'host.memory_used_pct': 'ram',
  },
  temperature: { 'gpu.temperature_c': 'gpu', 'gpu.memory_temperature_c': 'gpu' },
  power: { 'gpu.power_w': 'gpu', 'gpu.power_limit_pct': 'gpu' },
};

const PERCENT_RANGE: [number, number] = [0, 100];
const TEMPERATURE_RANGE: [number, number] = [0, 100];

/** The markers of one chart: its readings' alert names come from the catalogue. */
function useMarkers(chart: keyof typeof ALERT_READINGS, data: ChartData, transitions: readonly AlertHistoryItem[]): AlertMarker[] {
  const byKey = useMetricCatalogue((state) => state.byKey);
  const metrics = useMemo<ChartAlertMetrics>(() => {
    const names = new Map<string, Owner>();
    for (const [key, owner] of Object.entries(ALERT_READINGS[chart])) {
      const name = byKey.get(key)?.alert_name;
      if (name) names.set(name, owner);
    }
    return names;
  }, [byKey, chart]);
  const from = data.x[0];
  const seriesKey = data.series.map((series) => seriesId(series.colorKey)).join(',');
  const previous = useRef<AlertMarker[]>([]);
  return useMemo(() => {
    const markers =
      from === undefined
        ? []
        : chartMarkers(transitions, metrics, new Set(seriesKey.split(',')), from, Infinity, formatHoverTime);
    // The window's start moves with every live point: keep the same array while the markers are the same,
    // so the chart redraws for them only when they change.
    if (!sameMarkers(markers, previous.current)) previous.current = markers;
    return previous.current;
  }, [transitions, metrics, seriesKey, from]);
}

export function UtilizationChart({ data, theme, transitions }: ChartProps) {
  return (
    <TimeSeriesChart
      title="Utilization (GPU + CPU)"
      testId="chart-utilization"
      data={data}
      unit={useHistoryUnit(TREND_METRICS.gpuUtilization)}
      yRange={PERCENT_RANGE}
      markers={useMarkers('utilization', data, transitions)}
      theme={theme}
    />
  );
}

export function MemoryUsageChart({ data, theme, transitions }: ChartProps) {
  return (
    <TimeSeriesChart
      title="Memory (VRAM + RAM)"
      testId="chart-memory"
      data={data}
      unit={useHistoryUnit(TREND_METRICS.gpuMemoryUsedGb)}
      decimals={2}
      markers={useMarkers('memory', data, transitions)}
      theme={theme}
    />
  );
}

export function TemperatureChart({ data, theme, transitions }: ChartProps) {
  const unit = useHistoryUnit(TREND_METRICS.temperature);
  const band = useLevelBands().temperature;
  // The lines sit where the built-in alert rule fires and clears, as the server publishes them.
  const thresholds = useMemo<Threshold[]>(
    () =>
      band
        ? [
            { value: band.warning, label: `Warning ${band.warning} ${unit}`, tone: 'warn' },
            { value: band.critical, label: `Critical ${band.critical} ${unit}`, tone: 'critical' },
          ]
        : [],
    [band, unit],
  );
  return (
    <TimeSeriesChart
      title="Temperature"
      testId="chart-temperature"
      data={data}
      unit={unit}
      decimals={0}
      yRange={TEMPERATURE_RANGE}
      thresholds={thresholds}
      markers={useMarkers('temperature', data, transitions)}
      theme={theme}
    />
  );
}

export function PowerChart({ data, theme, transitions }: ChartProps) {
  return (
    <TimeSeriesChart
      title="Power"
      testId="chart-power"
      data={data}
      unit={useHistoryUnit(TREND_METRICS.power)}
      decimals={0}
      markers={useMarkers('power', data, transitions)}
      theme={theme}
    />
  );
}
