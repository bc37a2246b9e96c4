import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageResponse } from '../src/api/history';
import { UsageTables } from '../src/components/usage/UsageView';

const owner = (id: string, nodes: string[], gpuHours: number) => ({
  id,
  nodes,
  gpu_ids: [0],
  processes: 1,
  hours: 1,
  gpu_hours: gpuHours,
  energy_kwh: 0.2,
  peak_memory_gb: 4,
  avg_utilization: 50,
  details: {},
});

const USAGE: UsageResponse = {
  start: 0,
  end: 3600,
  resolution_seconds: 60,
  gpus: [
    { node: 'gpu-b', gpu_id: 0, name: 'H100', hours: 1, gpu_hours: 0.5, avg_utilization: 50, energy_kwh: 0.3, peak_power_watts: 400, peak_memory_gb: 10 },
    { node: 'gpu-a', gpu_id: 0, name: 'H100', hours: 1, gpu_hours: 0.7, avg_utilization: 70, energy_kwh: 0.4, peak_power_watts: 500, peak_memory_gb: 12 },
  ],
  users: [
    { user: 'ana', nodes: ['gpu-a', 'gpu-b'], gpu_ids: [0], processes: 2, hours: 2, gpu_hours: 1.2, energy_kwh: 0.7, peak_memory_gb: 12, avg_utilization: 60 },
  ],
  processes: [],
  containers: [owner('3f2a9c1b7d4e5f60718293a4b5c6d7e8', ['gpu-a'], 0.4), owner('c2', ['gpu-b'], 0.9)],
  pods: [],
  jobs: [],
};

describe('usage tables across a fleet', () => {
  afterEach(cleanup);

  it('names the nodes of every user and GPU, lists containers busiest first, and hides empty job lists', () => {
    render(<UsageTables usage={USAGE} fleet level={3} />);
    const users = screen.getByRole('region', { name: 'Usage per user' });
    expect(within(users).getByRole('columnheader', { name: 'Nodes' })).toBeTruthy();
    expect(within(users).getByRole('cell', { name: 'gpu-a, gpu-b' })).toBeTruthy();

    const gpuRows = within(screen.getByRole('region', { name: 'Usage per GPU' })).getAllByRole('row').slice(1);
    expect(gpuRows.map((row) => within(row).getAllByRole('cell')[0]?.textContent)).toEqual(['gpu-a', 'gpu-b']);

    const containers = within(screen.getByRole('region', { name: 'Usage per container' })).getAllByRole('row').slice(1);
    expect(containers.map((row) => within(row).getAllByRole('cell')[0]?.textContent)).toEqual(['c2', '3f2a9c1b7d4e']);
    expect(screen.queryByRole('region', { name: 'Usage per job' })).toBeNull();
  });

  it('leaves the node columns out for a single server', () => {
    render(<UsageTables usage={USAGE} />);
    expect(screen.queryByRole('columnheader', { name: 'Nodes' })).toBeNull();
    expect(screen.queryByRole('columnheader', { name: 'Node' })).toBeNull();
  });
});
