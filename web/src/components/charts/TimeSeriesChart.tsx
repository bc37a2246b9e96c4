import { memo, useLayoutEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { CHART_SYNC_KEY, useChartView, type TimeWindow } from '../../stores/chartView';
import { usePreferences } from '../../stores/preferences';
import type { AlertMarker } from '../../utils/alertMarkers';
import { formatHoverTime, seriesId, type ChartData } from '../../utils/chartData';
import type { Theme } from '../../types/system';
import { cssVar, seriesColor } from './palette';
import { drawBands } from './bands';
import { makeLegendKeyboardToggles, syncLegendPressed } from './legend';
import { drawMarkerLines, placeMarkerFlags } from './markers';

export interface Threshold {
  value: number;
  label: string;
  tone: 'warn' | 'critical';
}

interface TimeSeriesChartProps {
  title: string;
  testId: string;
  data: ChartData;
  unit: string;
  decimals?: number;
  /** Fixed y range (percent charts); otherwise uPlot fits the data, from zero. */
  yRange?: [number, number];
  thresholds?: Threshold[];
  /** Alert transitions drawn as vertical markers. */
  markers?: AlertMarker[];
  theme: Theme;
}

const CHART_HEIGHT = 220;
const NO_THRESHOLDS: Threshold[] = [];
const NO_MARKERS: AlertMarker[] = [];

function drawThresholds(chart: uPlot, thresholds: readonly Threshold[]): void {
  const { ctx, bbox } = chart;
  ctx.save();
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  ctx.textAlign = 'left';
  for (const threshold of thresholds) {
    const y = Math.round(chart.valToPos(threshold.value, 'y', true));
    if (y < bbox.top || y > bbox.top + bbox.height) continue;
    const color = cssVar(threshold.tone === 'critical' ? '--critical' : '--warn', '#ef4444');
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    // Critical labels sit above their line, warnings below theirs, so two close levels never overlap.
    const above = threshold.tone === 'critical';
    ctx.textBaseline = above ? 'bottom' : 'top';
    ctx.fillText(threshold.label, bbox.left + 4 * devicePixelRatio, y + (above ? -2 : 2) * devicePixelRatio);
  }
  ctx.restore();
}

function toAligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.columns] as uPlot.AlignedData;
}

/** What a screen reader hears for the canvas: the chart, and the latest alert transitions on it. */
function describeChart(title: string, markers: readonly AlertMarker[]): string {
  if (markers.length === 0) return `${title} over time`;
  const latest = markers.slice(-3).map((marker) => marker.label);
  return `${title} over time; ${markers.length} alert transitions, latest: ${latest.join('; ')}`;
}

/** Only the pointer's position travels between charts: a drag zooms through the shared window instead. */
const publishMoves = (type: string) => type === 'mousemove' || type === 'mouseleave';

/**
 * A uPlot line chart: created when its series or theme change, otherwise only fed new data. It shares
 * with the page's other charts the crosshair, the zoomed window and the hidden series, and draws the
 * min–max band and alert markers it is given.
 */
export const TimeSeriesChart = memo(function TimeSeriesChart({
  title,
  testId,
  data,
  unit,
  decimals = 1,
  yRange,
  thresholds = NO_THRESHOLDS,
  markers = NO_MARKERS,
  theme,
}: TimeSeriesChartProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  const legendRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const markerLayerRef = useRef<HTMLDivElement | null>(null);
  const dataRef = useRef(data);
  dataRef.current = data;
  const thresholdsRef = useRef(thresholds);
  thresholdsRef.current = thresholds;
  const markersRef = useRef(markers);
  markersRef.current = markers;
  const zoom = useChartView((state) => state.zoom);
  const zoomRef = useRef<TimeWindow | null>(zoom);
  zoomRef.current = zoom;
  const hiddenSeries = usePreferences((state) => state.hiddenSeries);
  const hiddenRef = useRef(hiddenSeries);
  hiddenRef.current = hiddenSeries;

  // Only these rebuild the chart; new points, bands, markers and thresholds only redraw it.
  const shapeKey = useMemo(
    () => `${theme}|${unit}|${data.series.map((series) => `${series.label}:${series.colorKey}`).join(',')}`,
    [theme, unit, data.series],
  );

  // A layout effect, declared before the one feeding data, so a change of series rebuilds the chart
  // before any data for the new series reaches it.
  useLayoutEffect(() => {
    const host = hostRef.current;
    const legendHost = legendRef.current;
    if (!host || !legendHost) return undefined;
    let legendTable: HTMLElement | null = null;
    const axisColor = cssVar('--text-muted', '#94a3b8');
    const gridColor = cssVar('--grid', '#334155');
    // The legend shows values under the cursor; with no cursor (or no data there) a dash, not "N/A".
    const format = (value: number | null) =>
      value === null || !Number.isFinite(value) ? '–' : `${value.toFixed(decimals)} ${unit}`;
    const axis: uPlot.Axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1, dash: [3, 3] },
      ticks: { stroke: gridColor, width: 1 },
      font: '11px system-ui, sans-serif',
    };
    const chartSeries = dataRef.current.series;
    const options: uPlot.Options = {
      width: Math.max(200, host.clientWidth),
      height: CHART_HEIGHT,
      pxAlign: false,
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // One vertical crosshair per chart: a horizontal one means nothing on charts of other units.
        y: false,
        points: { size: 6 },
        sync: { key: CHART_SYNC_KEY, setSeries: false, scales: ['x', null], filters: { pub: publishMoves } },
        bind: {
          // A double click anywhere returns every chart to live, as "Back to live" does.
          dblclick: () => () => {
            useChartView.getState().backToLive();
            return null;
          },
        },
      },
      hooks: {
        init: [
          (u) => {
            const layer = document.createElement('div');
            layer.className = 'chart-markers';
            u.over.appendChild(layer);
            markerLayerRef.current = layer;
          },
        ],
        // The window shown, on the element: what an end-to-end test checks a live update leaves alone.
        setScale: [
          (u, key) => {
            if (key === 'x') host.dataset.xWindow = `${u.scales.x?.min ?? ''}..${u.scales.x?.max ?? ''}`;
          },
        ],
        setSelect: [
          (u) => {
            // A dragged selection zooms every chart of the page; live data then leaves the window alone.
            if (u.select.width <= 0) return;
            const min = u.posToVal(u.select.left, 'x');
            const max = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            useChartView.getState().zoomTo({ min, max });
          },
        ],
        setSeries: [
          (u, index, opts) => {
            if (legendTable) syncLegendPressed(legendTable, u);
            // A legend click (or key press) hides (or shows) that series on every chart, and is remembered.
            const series = index === null ? undefined : chartSeries[index - 1];
            if (!series || opts.show === undefined) return;
            usePreferences.getState().setSeriesHidden(seriesId(series.colorKey), !opts.show);
          },
        ],
        drawAxes: [(u) => drawBands(u, dataRef.current, host)],
        draw: [
          (u) => {
            drawThresholds(u, thresholdsRef.current);
            const shown = new Set(chartSeries.filter((_, i) => u.series[i + 1]?.show).map((s) => seriesId(s.colorKey)));
            const visible = markersRef.current.filter((marker) => shown.has(marker.seriesId));
            drawMarkerLines(u, visible);
            if (markerLayerRef.current) placeMarkerFlags(u, markerLayerRef.current, visible);
          },
        ],
      },
      // Beside the canvas, not inside its role="img" (whose content is presentational): its entries are buttons.
      legend: {
        live: true,
        mount: (_u, table) => {
          legendTable = table;
          legendHost.appendChild(table);
        },
      },
      scales: {
        x: { time: true },
        y: yRange ? { range: yRange } : { range: (_chart, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...axis },
        { ...axis, size: 52, values: (_chart, ticks) => ticks.map((tick) => (unit === '%' || unit === '' ? `${tick}${unit}` : `${tick} ${unit}`)) },
      ],
      series: [
        { label: 'Time', value: (_chart, value) => formatHoverTime(value, dataRef.current.bucketSeconds) },
        ...chartSeries.map(
          (series): uPlot.Series => ({
            label: series.label,
            stroke: seriesColor(series.colorKey),
            width: 1,
            show: !hiddenRef.current.includes(seriesId(series.colorKey)),
            // A null is a gap (an outage, an unsupported reading): never bridged by a straight line.
            spanGaps: false,
            points: { show: false },
            value: (_chart, value) => format(value),
          }),
        ),
      ],
    };
    const chart = new uPlot(options, toAligned(dataRef.current), host);
    chartRef.current = chart;
    if (legendTable) makeLegendKeyboardToggles(legendTable, chart);
    if (zoomRef.current) chart.setScale('x', zoomRef.current);
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, host.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: CHART_HEIGHT });
    });
    observer.observe(host);
    return () => {
      observer.disconnect();
      chart.destroy();
      chartRef.current = null;
      markerLayerRef.current = null;
    };
    // yRange and decimals are fixed per chart instance.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shapeKey]);

  // Part of the commit, so a live update is fully drawn when React is done with it.
  useLayoutEffect(() => {
    const chart = chartRef.current;
    if (chart && chart.series.length === data.columns.length + 1) chart.setData(toAligned(data), zoomRef.current === null);
  }, [data]);

  // The page's shared window: set by a drag on any chart, cleared by "Back to live" on any.
  useLayoutEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    if (zoom) chart.setScale('x', zoom);
    else chart.setData(toAligned(dataRef.current), true);
  }, [zoom]);

  // Series hidden from any chart's legend (or before a reload) are hidden here too.
  useLayoutEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    dataRef.current.series.forEach((series, index) => {
      const show = !hiddenSeries.includes(seriesId(series.colorKey));
      if (chart.series[index + 1]?.show !== show) chart.setSeries(index + 1, { show });
    });
  }, [hiddenSeries, shapeKey]);

  // Markers and thresholds change without new points (an alert fires, the catalogue loads).
  useLayoutEffect(() => {
    chartRef.current?.redraw(false, false);
  }, [markers, thresholds]);

  const empty = data.x.length < 2;
  return (
    <section className="panel chart-panel" data-testid={testId} aria-label={`${title} chart`}>
      <h3>
        {title}
        {zoom && (
          <button
            type="button"
            className="btn btn-small chart-live"
            onClick={() => useChartView.getState().backToLive()}
            data-testid="back-to-live"
          >
            Back to live
          </button>
        )}
      </h3>
      <div className="chart-host" ref={hostRef} role="img" aria-label={describeChart(title, markers)}>
        {empty && <div className="chart-empty">Collecting data…</div>}
      </div>
      <div className="chart-legend" ref={legendRef} role="group" aria-label={`${title} series`} />
    </section>
  );
});
