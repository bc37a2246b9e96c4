import type uPlot from 'uplot';
import type { AlertSeverity } from '../../types/alerts';
import type { AlertMarker } from '../../utils/alertMarkers';
import { cssVar } from './palette';

const SEVERITY_COLOR: Record<AlertSeverity, [string, string]> = {
  critical: ['--critical', '#f87171'],
  warning: ['--warn', '#eab308'],
  info: ['--info', '#60a5fa'],
};

function severityColor(severity: AlertSeverity): string {
  const [name, fallback] = SEVERITY_COLOR[severity];
  return cssVar(name, fallback);
}

function inWindow(chart: uPlot, time: number): boolean {
  const { min, max } = chart.scales.x ?? {};
  return min !== undefined && max !== undefined && time >= min && time <= max;
}

/** A vertical line per transition in the window, its severity's colour: solid firing, dashed resolved. */
export function drawMarkerLines(chart: uPlot, markers: readonly AlertMarker[]): void {
  const { ctx, bbox } = chart;
  ctx.save();
  ctx.lineWidth = 1.5 * devicePixelRatio;
  for (const marker of markers) {
    if (!inWindow(chart, marker.time)) continue;
    const x = Math.round(chart.valToPos(marker.time, 'x', true));
    ctx.strokeStyle = severityColor(marker.severity);
    ctx.setLineDash(marker.firing ? [] : [3 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * A small flag on top of each line, in the plot's overlay, whose tooltip names the transition, the
 * rule, where and when (a canvas line has no tooltip of its own).
 */
export function placeMarkerFlags(chart: uPlot, layer: HTMLElement, markers: readonly AlertMarker[]): void {
  const shown = markers.filter((marker) => inWindow(chart, marker.time));
  while (layer.children.length > shown.length) layer.lastElementChild?.remove();
  while (layer.children.length < shown.length) {
    const flag = document.createElement('span');
    flag.className = 'chart-marker';
    flag.dataset.testid = 'alert-marker';
    layer.appendChild(flag);
  }
  shown.forEach((marker, index) => {
    const flag = layer.children[index] as HTMLElement;
    flag.style.left = `${chart.valToPos(marker.time, 'x')}px`;
    flag.style.background = severityColor(marker.severity);
    flag.dataset.severity = marker.severity;
    flag.dataset.state = marker.firing ? 'firing' : 'resolved';
    flag.title = marker.label;
  });
}
