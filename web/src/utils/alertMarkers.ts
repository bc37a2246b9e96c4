/**
 * Alert transitions drawn on the trend charts: where a rule on a chart's metric started firing or
 * resolved, for the series that chart shows, inside the window it shows.
 */
import type { AlertHistoryItem, AlertSeverity } from '../types/alerts';

export interface AlertMarker {
  /** Unix seconds. */
  time: number;
  severity: AlertSeverity;
  firing: boolean;
  /** The series it belongs to (`gpu:3`, `cpu`): the marker hides with it. */
  seriesId: string;
  /** What its tooltip says: the transition, the rule, where and when. */
  label: string;
}

/** Which alert metrics belong on a chart: an alert name to `gpu` (one series per GPU) or a host series id. */
export type ChartAlertMetrics = ReadonlyMap<string, 'gpu' | 'cpu' | 'ram'>;

function markerSeries(item: AlertHistoryItem, metrics: ChartAlertMetrics): string | null {
  const owner = metrics.get(item.metric);
  if (owner === undefined) return null;
  if (owner === 'gpu') return item.gpu_id === null ? null : `gpu:${item.gpu_id}`;
  return item.gpu_id === null ? owner : null;
}

function describe(item: AlertHistoryItem, when: string): string {
  const where = item.gpu_id === null ? 'host' : `GPU ${item.gpu_id}`;
  return `${item.kind === 'firing' ? 'Firing' : 'Resolved'}: ${item.rule_name} on ${where} · ${when}`;
}

/**
 * The markers one chart draws: firing and resolved transitions (not pendings) of its metrics, for the
 * series it shows, from `fromSeconds` to `toSeconds`, oldest first.
 */
export function chartMarkers(
  items: readonly AlertHistoryItem[],
  metrics: ChartAlertMetrics,
  shownSeries: ReadonlySet<string>,
  fromSeconds: number,
  toSeconds: number,
  formatTime: (seconds: number) => string,
): AlertMarker[] {
  const markers: AlertMarker[] = [];
  for (const item of items) {
    if (item.kind !== 'firing' && item.kind !== 'resolved') continue;
    if (item.ts < fromSeconds || item.ts > toSeconds) continue;
    const seriesId = markerSeries(item, metrics);
    if (seriesId === null || !shownSeries.has(seriesId)) continue;
    markers.push({
      time: item.ts,
      severity: item.severity,
      firing: item.kind === 'firing',
      seriesId,
      label: describe(item, formatTime(item.ts)),
    });
  }
  return markers.sort((a, b) => a.time - b.time);
}

/** Whether two marker lists draw the same thing. */
export function sameMarkers(a: readonly AlertMarker[], b: readonly AlertMarker[]): boolean {
  return (
    a.length === b.length &&
    a.every((marker, i) => {
      const other = b[i];
      return other !== undefined && marker.time === other.time && marker.label === other.label && marker.severity === other.severity;
    })
  );
}
