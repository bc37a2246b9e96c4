/**
 * What one heatmap cell says about one GPU of the fleet: its value for the chosen metric, a colour band
 * for it, and any trouble (an offline node, an unresponsive or lost GPU, heat, firing alerts), which the
 * cell marks with a symbol and its label names in words, so colour is never the only cue.
 */
import type { FleetGPU, FleetNode } from '../../api/fleet';
import { percentOf, type Band } from '../../utils/metricHelpers';

export type HeatMetric = 'utilization' | 'memory' | 'temperature';

export const HEAT_METRICS: { key: HeatMetric; label: string }[] = [
  { key: 'utilization', label: 'Utilization' },
  { key: 'memory', label: 'Memory used' },
  { key: 'temperature', label: 'Temperature' },
];

/** Colour bands 0 (cool) to 4 (hot); null when the GPU reports no value. */
export type HeatBand = 0 | 1 | 2 | 3 | 4;

/** Temperatures are banded from here (an idle GPU) up to the critical level the catalogue publishes. */
const COOL_C = 30;

export type Trouble = 'offline' | 'stale' | 'lost' | 'unresponsive' | 'hot' | 'alerts';

/** Worst first: the cell shows the symbol of its worst trouble. */
const TROUBLE_ORDER: Trouble[] = ['offline', 'lost', 'unresponsive', 'hot', 'alerts', 'stale'];

export const TROUBLE_TEXT: Record<Trouble, string> = {
  offline: 'node offline',
  stale: 'node stale',
  lost: 'GPU lost',
  unresponsive: 'GPU unresponsive',
  hot: 'hot',
  alerts: 'alerts firing',
};

export const TROUBLE_SYMBOL: Record<Trouble, string> = {
  offline: '✕',
  stale: '…',
  lost: '✕',
  unresponsive: '!',
  hot: '▲',
  alerts: '●',
};

export function heatValue(gpu: FleetGPU, metric: HeatMetric): number | null {
  switch (metric) {
    case 'utilization':
      return gpu.utilization_pct;
    case 'memory':
      return percentOf(gpu.memory_used_gib, gpu.memory_total_gib);
    case 'temperature':
      return gpu.temperature_c;
  }
}

/** `temperature` is the catalogue's temperature band; until it is known temperatures have no band. */
export function heatBand(value: number | null, metric: HeatMetric, temperature?: Band): HeatBand | null {
  if (value === null || !Number.isFinite(value)) return null;
  if (metric === 'temperature' && !temperature) return null;
  const low = metric === 'temperature' ? COOL_C : 0;
  const high = metric === 'temperature' && temperature ? temperature.critical : 100;
  const share = Math.min(1, Math.max(0, (value - low) / (high - low)));
  return Math.min(4, Math.floor(share * 5)) as HeatBand;
}

export function formatHeatValue(value: number | null, metric: HeatMetric): string {
  if (value === null || !Number.isFinite(value)) return 'N/A';
  return metric === 'temperature' ? `${Math.round(value)} °C` : `${Math.round(value)} %`;
}

/** Everything wrong with a GPU, worst first; hot is at or above `temperature`'s warning level. Readings
 * of an offline node are old, and said to be. */
export function troubles(gpu: FleetGPU, node: FleetNode | undefined, temperature?: Band): Trouble[] {
  const status = node?.status ?? gpu.node_status;
  const found = new Set<Trouble>();
  if (status === 'offline') found.add('offline');
  if (status === 'stale') found.add('stale');
  if (gpu.state === 'lost') found.add('lost');
  if (gpu.state === 'unresponsive') found.add('unresponsive');
  if (temperature && gpu.temperature_c !== null && gpu.temperature_c >= temperature.warning) found.add('hot');
  if ((node?.alerts_firing ?? 0) > 0) found.add('alerts');
  return TROUBLE_ORDER.filter((trouble) => found.has(trouble));
}

/** The cell's name in five parts, visible ones (the GPU index, the value) between the rest:
 * "gpu-b GPU ", "1", " (NVIDIA H100): utilization ", "45 %", "; node offline, hot". */
export function cellLabelParts(gpu: FleetGPU, metric: HeatMetric, found: readonly Trouble[]): string[] {
  const metricLabel = HEAT_METRICS.find((item) => item.key === metric)?.label.toLowerCase() ?? metric;
  const model = gpu.name ? ` (${gpu.name})` : '';
  const trouble = found.length === 0 ? '' : `; ${found.map((item) => TROUBLE_TEXT[item]).join(', ')}`;
  return [
    `${gpu.node} GPU `,
    String(gpu.gpu_id),
    `${model}: ${metricLabel} `,
    formatHeatValue(heatValue(gpu, metric), metric),
    trouble,
  ];
}

/** The cell's accessible name: node, GPU, value, and each trouble in words. */
export function cellLabel(gpu: FleetGPU, metric: HeatMetric, found: readonly Trouble[]): string {
  return cellLabelParts(gpu, metric, found).join('');
}

export interface NodeCells {
  node: string;
  status: FleetNode['status'];
  gpus: FleetGPU[];
}

/** GPUs grouped by node in the nodes' order; a node without GPUs still gets its (empty) group. */
export function groupByNode(nodes: readonly FleetNode[], gpus: readonly FleetGPU[]): NodeCells[] {
  const byNode = new Map<string, FleetGPU[]>();
  for (const gpu of gpus) {
    const list = byNode.get(gpu.node) ?? [];
    list.push(gpu);
    byNode.set(gpu.node, list);
  }
  return nodes.map((node) => ({
    node: node.name,
    status: node.status,
    gpus: (byNode.get(node.name) ?? []).sort((a, b) => a.gpu_id - b.gpu_id),
  }));
}
