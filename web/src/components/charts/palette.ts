import type { ChartSeries } from '../../utils/chartData';

/**
 * GPU line colours: eight hues far apart from each other and from the host series (tested by colour
 * distance), at least 3:1 against the dark panels. GPU 0 keeps the spec's purple, the CPU its blue.
 */
export const GPU_COLORS = ['#8b5cf6', '#ec4899', '#ef4444', '#a3e635', '#facc15', '#14b8a6', '#4ade80', '#fb923c'];
export const CPU_COLOR = '#60a5fa';
export const RAM_COLOR = '#64748b';

export function seriesColor(colorKey: ChartSeries['colorKey']): string {
  if (colorKey === 'cpu') return CPU_COLOR;
  if (colorKey === 'ram') return RAM_COLOR;
  return GPU_COLORS[colorKey % GPU_COLORS.length] ?? GPU_COLORS[0]!;
}

/** A colour the stylesheet defines for the current theme, read when a chart draws. */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
