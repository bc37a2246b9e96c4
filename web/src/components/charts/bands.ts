import type uPlot from 'uplot';
import type { ChartData, Column } from '../../utils/chartData';
import { seriesColor } from './palette';

const BAND_ALPHA = 0.18;

/** Runs of consecutive rows where both edges of a band are numbers: a gap in the data is a gap in the band. */
export function bandRuns(lower: Column, upper: Column): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  const count = Math.min(lower.length, upper.length);
  for (let i = 0; i <= count; i += 1) {
    const present = i < count && lower[i] !== null && upper[i] !== null;
    if (present && start < 0) start = i;
    if (!present && start >= 0) {
      runs.push([start, i - 1]);
      start = -1;
    }
  }
  return runs;
}

/** Whether a band has any width: with one sample per point the lowest and highest are the line itself. */
export function bandHasWidth(lower: Column, upper: Column): boolean {
  return lower.some((low, i) => low !== null && (upper[i] ?? low) > low);
}

/**
 * Shades each shown series' min–max band under the lines (uPlot's drawAxes hook runs before the series
 * draw). Says on the chart element how many bands with width it drew, for people and tests alike.
 */
export function drawBands(chart: uPlot, data: ChartData, host: HTMLElement): void {
  const { lower, upper } = data;
  if (!lower || !upper) {
    if (host.dataset.bands !== undefined) delete host.dataset.bands;
    return;
  }
  const { ctx, bbox } = chart;
  const x = data.x;
  let drawn = 0;
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();
  ctx.globalAlpha = BAND_ALPHA;
  data.series.forEach((series, index) => {
    const low = lower[index];
    const high = upper[index];
    if (!low || !high || !chart.series[index + 1]?.show) return;
    ctx.fillStyle = seriesColor(series.colorKey);
    for (const [from, to] of bandRuns(low, high)) {
      ctx.beginPath();
      for (let i = from; i <= to; i += 1) {
        const px = chart.valToPos(x[i] ?? 0, 'x', true);
        const py = chart.valToPos(high[i] ?? 0, 'y', true);
        if (i === from) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      for (let i = to; i >= from; i -= 1) ctx.lineTo(chart.valToPos(x[i] ?? 0, 'x', true), chart.valToPos(low[i] ?? 0, 'y', true));
      ctx.closePath();
      ctx.fill();
    }
    if (bandHasWidth(low, high)) drawn += 1;
  });
  ctx.restore();
  if (host.dataset.bands !== String(drawn)) host.dataset.bands = String(drawn);
}
