import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useSession } from '../src/auth/session';
import { ProcessesPage, ownerOf } from '../src/components/processes/ProcessesPage';
import { useLiveData, type LiveFrame } from '../src/stores/liveData';
import { useProcessActions } from '../src/stores/processActions';
import type { GPUProcess } from '../src/types/system';
import { makeSystem } from './fixtures';

// jsdom has no matchMedia, which uPlot (the history charts) reads as it loads.
vi.hoisted(() => {
  const query = (media: string) => ({
    matches: false,
    media,
    onchange: null,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    addListener: () => undefined,
    removeListener: () => undefined,
    dispatchEvent: () => false,
  });
  window.matchMedia ??= query as unknown as typeof window.matchMedia;
});

function process(pid: number, gpuId: number, overrides: Partial<GPUProcess> = {}): GPUProcess {
  return {
    pid,
    process_name: 'python',
    gpu_memory_mb: 1000,
    cpu_percent: 50,
    user: 'alice',
    gpu_id: gpuId,
    kind: 'compute',
    status: 'running',
    started_at: 1_700_000_000,
    ...overrides,
  } as GPUProcess;
}

const PROCESSES = [
  process(4242, 0, { gpu_memory_mb: 6000, slurm_job_id: '77123' }),
  process(5151, 1, { process_name: 'vllm', user: 'root', pod_namespace: 'ml', pod_name: 'serve-7f9c', pod_uid: 'u1' }),
  process(6000, 1, { process_name: 'Xorg', user: 'root', gpu_memory_mb: 200, status: 'stopped' }),
];

function frame(processes: GPUProcess[]): LiveFrame {
  return {
    gpuAvailable: true,
    gpuStatus: 'ok',
    gpuList: [],
    gpus: [],
    system: makeSystem(),
    processes,
    storage: [],
    snapshotTime: Date.now(),
  };
}

const requests: { method: string; url: string; body: unknown }[] = [];

function answer(url: string, method: string): unknown {
  if (url.includes('/processes/actions')) return { enabled: true, grace_seconds: 5, actions: [] };
  if (method === 'POST') {
    return {
      timestamp: 1,
      user: 'admin',
      client: '127.0.0.1',
      action: 'terminate',
      pid: 5151,
      process_name: 'vllm',
      process_user: 'root',
      gpu_ids: [1],
      outcome: 'terminated',
      detail: 'exited after SIGTERM, within the 5 s grace period',
    };
  }
  return {};
}

beforeEach(() => {
  requests.length = 0;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET';
      requests.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : undefined });
      return new Response(JSON.stringify(answer(url, method)), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  useLiveData.setState({ frame: frame(PROCESSES) });
  useProcessActions.setState({ enabled: null, log: [], lastResult: null });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  useSession.setState({ identity: null });
});

const pids = () => screen.getAllByTestId('all-process-row').map((row) => Number(row.dataset.pid));

describe('the all-GPU process list', () => {
  it('lists every GPU’s processes, biggest memory first, and sorts by any column', () => {
    render(<ProcessesPage />);
    expect(pids()).toEqual([4242, 5151, 6000]);
    fireEvent.click(screen.getByRole('button', { name: 'PID' }));
    expect(pids()).toEqual([6000, 5151, 4242]);
    fireEvent.click(screen.getByRole('button', { name: 'PID' }));
    expect(pids()).toEqual([4242, 5151, 6000]);
  });

  it('searches by name, user, pod and job', () => {
    render(<ProcessesPage />);
    const search = screen.getByTestId('process-search');
    fireEvent.change(search, { target: { value: 'SERVE' } });
    expect(pids()).toEqual([5151]);
    fireEvent.change(search, { target: { value: '77123' } });
    expect(pids()).toEqual([4242]);
    fireEvent.change(search, { target: { value: 'nobody-runs-this' } });
    expect(screen.queryAllByTestId('all-process-row')).toHaveLength(0);
    expect(screen.getByText('No process matches the search.')).toBeTruthy();
  });

  it('names each owner briefly', () => {
    const [job, pod, bare] = PROCESSES as [GPUProcess, GPUProcess, GPUProcess];
    expect(ownerOf(job)).toBe('job 77123');
    expect(ownerOf(pod)).toBe('ml/serve-7f9c');
    expect(ownerOf(bare)).toBeNull();
  });
});

describe('process actions', () => {
  it('are not offered to anonymous readers', async () => {
    render(<ProcessesPage />);
    await waitFor(() => expect(useProcessActions.getState().enabled).toBe(true));
    expect(screen.queryAllByTestId('terminate-process')).toHaveLength(0);
  });

  it('ask first, naming the process, its user and GPU, and only then signal it', async () => {
    useSession.setState({ identity: { username: 'admin', role: 'admin', anonymous: false, anonymous_read: true } });
    render(<ProcessesPage />);
    const row = (await screen.findAllByTestId('all-process-row')).find((r) => r.dataset.pid === '5151')!;
    expect(within(row).getByTestId('pause-process')).toBeTruthy();
    fireEvent.click(within(row).getByTestId('terminate-process'));

    const dialog = screen.getByTestId('process-action-dialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Terminate vllm (PID 5151)?');
    expect(within(dialog).getByTestId('confirm-user').textContent).toBe('root');
    expect(within(dialog).getByTestId('confirm-gpu').textContent).toBe('1');
    expect(requests.some((request) => request.method === 'POST')).toBe(false);

    await act(async () => fireEvent.click(within(dialog).getByTestId('confirm-process-action')));

    const post = requests.find((request) => request.method === 'POST')!;
    expect(post.url).toBe('/api/v1/processes/5151/terminate');
    expect(post.body).toEqual({ gpu_id: 1 });
    await waitFor(() => expect(screen.queryByTestId('process-action-dialog')).toBeNull());
    expect(screen.getByTestId('process-action-result').textContent).toContain('vllm (PID 5151) terminated');
  });

  it('offer Resume for a paused process, and Cancel sends nothing', () => {
    useSession.setState({ identity: { username: 'admin', role: 'admin', anonymous: false, anonymous_read: true } });
    useProcessActions.setState({ enabled: true });
    render(<ProcessesPage />);
    const row = screen.getAllByTestId('all-process-row').find((r) => r.dataset.pid === '6000')!;
    fireEvent.click(within(row).getByTestId('resume-process'));
    const dialog = screen.getByTestId('process-action-dialog');
    expect(within(dialog).getByRole('heading').textContent).toBe('Resume Xorg (PID 6000)?');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('process-action-dialog')).toBeNull();
    expect(requests.some((request) => request.method === 'POST')).toBe(false);
  });
});
