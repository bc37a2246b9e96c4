import { describe, expect, it } from 'vitest';
import type { FleetGPU, FleetNode } from '../src/api/fleet';
import { cellLabel, groupByNode, heatBand, heatValue, troubles } from '../src/components/fleet/heatmap';
import { parseCriteria } from '../src/components/fleet/FreeGPUFinder';
import { nodeFromPath, nodePath, showsMonitor } from '../src/stores/urlState';

function node(name: string, overrides: Partial<FleetNode> = {}): FleetNode {
  return {
    id: `${name}-id`,
    name,
    status: 'online',
    last_seen: 1_700_000_000,
    last_seen_age_s: 0.4,
    gpu_count: 2,
    alerts_firing: 0,
    version: '1.0.0',
    driver_version: '550.54.15',
    cuda_version: '12.4',
    ...overrides,
  };
}

function gpu(nodeName: string, gpuId: number, overrides: Partial<FleetGPU> = {}): FleetGPU {
  return {
    node: nodeName,
    node_id: `${nodeName}-id`,
    node_status: 'online',
    gpu_id: gpuId,
    uuid: `GPU-${nodeName}-${gpuId}`,
    name: 'NVIDIA A100-SXM4-80GB',
    state: 'ok',
    utilization_pct: 40,
    memory_used_gib: 20,
    memory_free_gib: 60,
    memory_total_gib: 80,
    temperature_c: 55,
    power_w: 250,
    processes: 1,
    users: ['ana'],
    timestamp: 1_700_000_000,
    ...overrides,
  };
}

describe('fleet heatmap cells', () => {
  it('reads each metric, memory as a share of the total', () => {
    const one = gpu('a', 0);
    expect(heatValue(one, 'utilization')).toBe(40);
    expect(heatValue(one, 'memory')).toBe(25);
    expect(heatValue(one, 'temperature')).toBe(55);
    expect(heatValue(gpu('a', 1, { memory_total_gib: null }), 'memory')).toBeNull();
  });

  /** As the catalogue publishes GPU temperature's levels. */
  const TEMPERATURE = { warning: 80, critical: 85 };

  it('bands values from cool to hot, and a missing value has no band', () => {
    expect(heatBand(0, 'utilization')).toBe(0);
    expect(heatBand(50, 'utilization')).toBe(2);
    expect(heatBand(100, 'utilization')).toBe(4);
    expect(heatBand(25, 'temperature', TEMPERATURE)).toBe(0);
    expect(heatBand(95, 'temperature', TEMPERATURE)).toBe(4);
    expect(heatBand(95, 'temperature')).toBeNull(); // levels not loaded yet: no colour rather than a guess
    expect(heatBand(null, 'memory')).toBeNull();
  });

  it('names every trouble, worst first', () => {
    expect(troubles(gpu('a', 0), node('a'))).toEqual([]);
    const hot = gpu('a', 0, { temperature_c: 88, state: 'unresponsive' });
    expect(troubles(hot, node('a', { alerts_firing: 2 }), TEMPERATURE)).toEqual(['unresponsive', 'hot', 'alerts']);
    expect(troubles(gpu('a', 0, { temperature_c: 79 }), node('a'), TEMPERATURE)).toEqual([]);
    expect(troubles(gpu('b', 0), node('b', { status: 'offline' }))).toEqual(['offline']);
    expect(troubles(gpu('c', 0, { state: 'lost' }), node('c', { status: 'stale' }))).toEqual(['lost', 'stale']);
  });

  it('labels a cell with node, GPU, model, value and trouble in words', () => {
    const hot = gpu('gpu-b', 3, { temperature_c: 91.4 });
    expect(cellLabel(hot, 'temperature', troubles(hot, node('gpu-b', { status: 'offline' }), TEMPERATURE))).toBe(
      'gpu-b GPU 3 (NVIDIA A100-SXM4-80GB): temperature 91 °C; node offline, hot',
    );
    expect(cellLabel(gpu('a', 0, { utilization_pct: null }), 'utilization', [])).toBe(
      'a GPU 0 (NVIDIA A100-SXM4-80GB): utilization N/A',
    );
  });

  it('groups GPUs by node in the nodes order, each group by GPU index', () => {
    const groups = groupByNode([node('a'), node('b'), node('hub', { gpu_count: 0 })], [
      gpu('b', 1),
      gpu('a', 0),
      gpu('b', 0),
    ]);
    expect(groups.map((group) => [group.node, group.gpus.map((item) => item.gpu_id)])).toEqual([
      ['a', [0]],
      ['b', [0, 1]],
      ['hub', []],
    ]);
  });
});

describe('fleet addresses', () => {
  it('round-trips a node name through its path', () => {
    expect(nodePath('gpu-a')).toBe('/fleet/gpu-a');
    expect(nodePath('rack 4/b', 2)).toBe('/fleet/rack%204%2Fb?gpu=2');
    expect(nodeFromPath('/fleet/rack%204%2Fb')).toBe('rack 4/b');
    expect(nodeFromPath('/fleet')).toBeNull();
    expect(nodeFromPath('/fleet/')).toBeNull();
    expect(nodeFromPath('/fleet/%E0%A4%A')).toBeNull();
  });

  it('keeps the monitor URL state on the dashboard and a node view only', () => {
    expect(showsMonitor('/')).toBe(true);
    expect(showsMonitor('/fleet/gpu-a')).toBe(true);
    expect(showsMonitor('/fleet')).toBe(false);
    expect(showsMonitor('/usage')).toBe(false);
  });
});

describe('free GPU finder input', () => {
  it('accepts GiB from 0 and says what is wrong otherwise', () => {
    expect(parseCriteria(' 24 ', ' A100 ')).toEqual({ minFreeGiB: 24, model: 'A100' });
    expect(parseCriteria('0.5', '')).toEqual({ minFreeGiB: 0.5, model: '' });
    for (const bad of ['', 'lots', '-1', '1e9']) {
      expect(parseCriteria(bad, '')).toBe('Free memory: enter a number of GiB from 0 to 100000');
    }
  });
});
