import type { ChartSeries } from '../../utils/chartData';

/** GPU line colours; the first matches the spec's GPU purple, CPU keeps the spec's blue. */
const GPU_COLORS = ['#a78bfa', '#f472b6', '#34d399', '#fbbf24', '#22d3ee', '#fb7185', '#a3e635', '#f97316'];
const CPU_COLOR = '#3b82f6';
const RAM_COLOR = '#38bdf8';

export function seriesColor(colorKey: ChartSeries['colorKey']): string {
  if (colorKey === 'cpu') return CPU_COLOR;
  if (colorKey === 'ram') return RAM_COLOR;
  return GPU_COLORS[colorKey % GPU_COLORS.length] ?? GPU_COLORS[0]!;
}
