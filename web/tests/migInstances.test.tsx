import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { GPUCard } from '../src/components/SystemMonitor/GPUCard';
import { MIGInstancesPanel } from '../src/components/SystemMonitor/MIGInstances';
import type { MIGInstance } from '../src/types/system';
import { makeGPU } from './fixtures';

function instance(gpuInstanceId: number, overrides: Partial<MIGInstance> = {}): MIGInstance {
  return {
    index: gpuInstanceId - 1,
    uuid: `MIG-${gpuInstanceId}`,
    profile: '1g.10gb',
    gpu_instance_id: gpuInstanceId,
    compute_instance_id: 0,
    utilization: { gpu: null },
    memory: { used_gb: 2.5, total_gb: 10, free_gb: 7.5, used_percent: 25 },
    profiling: { status: 'ok', sm_active_pct: 31 },
    pids: [],
    ...overrides,
  };
}

afterEach(cleanup);

describe('MIG instances', () => {
  it('lists each instance with its profile, ids, memory and SM activity inside the GPU card', () => {
    const gpu = makeGPU(0, {
      mig_mode: true,
      mig_instances: [instance(1, { profile: '3g.40gb', pids: [101, 102] }), instance(2)],
    });
    render(<GPUCard gpu={gpu} selected={false} onOpen={() => {}} />);

    const rows = within(screen.getByTestId('mig-instances')).getAllByTestId('mig-instance');
    expect(rows).toHaveLength(2);
    const [first, second] = rows as [HTMLElement, HTMLElement];
    expect(within(first).getByTestId('mig-profile').textContent).toBe('3g.40gb');
    expect(first.textContent).toContain('GI 1 · CI 0');
    expect(within(first).getByTestId('mig-processes').textContent).toBe('2 processes');
    expect(within(first).getByTestId('mig-sm-active').textContent).toContain('31');
    const memory = within(second).getByRole('meter', { name: '1g.10gb memory used' });
    expect(memory.getAttribute('aria-valuenow')).toBe('25');
  });

  it('shows N/A where an instance has no figure, never 0', () => {
    render(
      <MIGInstancesPanel
        instances={[instance(3, { profiling: { status: 'unsupported', sm_active_pct: null }, memory: { used_gb: null, total_gb: null } })]}
      />,
    );
    const row = screen.getByTestId('mig-instance');
    expect(within(row).getByTestId('mig-sm-active').textContent).toContain('N/A');
    expect(within(row).getByRole('meter', { name: '1g.10gb SM active' }).getAttribute('aria-valuenow')).toBeNull();
    expect(row.textContent).not.toMatch(/\b0(\.0)? ?%/);
  });

  it('draws nothing for a GPU without MIG devices', () => {
    render(<GPUCard gpu={makeGPU(1)} selected={false} onOpen={() => {}} />);
    expect(screen.queryByTestId('mig-instances')).toBeNull();
    const { container } = render(<MIGInstancesPanel instances={[]} />);
    expect(container.innerHTML).toBe('');
  });
});
