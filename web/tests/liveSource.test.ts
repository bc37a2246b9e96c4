import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LiveSource,
  SIDE_POLL_MS,
  parseStreamMessage,
  streamUrl,
  type SnapshotFrame,
  type Transport,
} from '../src/stream/liveSource';
import { frameToMonitoringData, streamRateHz } from '../src/stores/systemMonitorStore';
import { makeGPU, makeResponse, makeSystem } from './fixtures';

/** Just enough of a WebSocket for LiveSource: the test opens, messages and closes it by hand. */
class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  readonly url: string;
  closed = false;
  constructor(url: string) {
    this.url = url;
  }
  close() {
    this.closed = true;
  }
}

function frame(overrides: Partial<SnapshotFrame> = {}): SnapshotFrame {
  return {
    type: 'snapshot',
    seq: 7,
    timestamp: 1_700_000_001,
    gpu_available: true,
    gpus: [makeGPU(0), makeGPU(1, { temperature: 71 })],
    gpu_processes: [
      { pid: 10, process_name: 'train', gpu_memory_mb: 100, cpu_percent: 5, gpu_id: 0 },
      { pid: 11, process_name: 'infer', gpu_memory_mb: 200, cpu_percent: 3, gpu_id: 1 },
    ],
    system_metrics: makeSystem(33),
    ...overrides,
  };
}

describe('LiveSource', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(streamEnabled: boolean) {
    const sockets: FakeSocket[] = [];
    const poll = vi.fn();
    const sidePoll = vi.fn();
    const onSnapshot = vi.fn();
    const onAlert = vi.fn();
    const transports: Transport[] = [];
    const urls: boolean[] = [];
    const source = new LiveSource({
      intervalMs: 1000,
      poll,
      sidePoll,
      onSnapshot,
      onAlert,
      onTransport: (transport) => transports.push(transport),
      url: (withRate) => {
        urls.push(withRate);
        return `ws://host/api/v1/stream${withRate ? '?rate=1' : ''}`;
      },
      streamEnabled,
      createSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    return { source, sockets, poll, sidePoll, onSnapshot, onAlert, transports, urls };
  }

  it('only polls while the stream is disabled', () => {
    const { source, sockets, poll } = setup(false);
    source.start();
    vi.advanceTimersByTime(3000);
    expect(poll).toHaveBeenCalledTimes(4);
    expect(sockets).toHaveLength(0);
    source.stop();
  });

  it('streams once open, keeps a slow side poll, and falls back to polling when the socket closes', () => {
    const { source, sockets, poll, sidePoll, onSnapshot, onAlert, transports } = setup(true);
    source.start();
    expect(transports).toEqual(['polling']);
    sockets[0]?.onopen?.();
    poll.mockClear();
    vi.advanceTimersByTime(SIDE_POLL_MS);
    expect(poll).not.toHaveBeenCalled();
    expect(sidePoll).toHaveBeenCalledTimes(1);
    expect(transports.at(-1)).toBe('stream');

    sockets[0]?.onmessage?.({ data: JSON.stringify(frame()) });
    sockets[0]?.onmessage?.({
      data: JSON.stringify({ type: 'alert', alert_id: 'hot:gpu0', status: 'firing', kind: 'firing' }),
    });
    sockets[0]?.onmessage?.({ data: JSON.stringify({ type: 'heartbeat', timestamp: 1 }) });
    expect(onSnapshot).toHaveBeenCalledTimes(1);
    expect(onAlert).toHaveBeenCalledTimes(1);

    sockets[0]?.onclose?.();
    expect(transports.at(-1)).toBe('polling');
    expect(poll).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2); // reconnecting with backoff
    source.stop();
    expect(sockets[1]?.closed).toBe(true);
  });

  it('backs off between failed attempts and drops the rate after a refused handshake', () => {
    const { source, sockets, urls } = setup(true);
    source.start();
    sockets[0]?.onclose?.(); // refused before it opened
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2);
    expect(urls).toEqual([true, false]);
    sockets[1]?.onclose?.();
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(2); // the second wait is longer
    vi.advanceTimersByTime(1000);
    expect(sockets).toHaveLength(3);
    source.stop();
  });

  it('gives up on a socket that goes silent and polls instead', () => {
    const { source, sockets, transports, poll } = setup(true);
    source.start();
    sockets[0]?.onopen?.();
    poll.mockClear();
    vi.advanceTimersByTime(36_000);
    expect(sockets[0]?.closed).toBe(true);
    expect(transports.at(-1)).toBe('polling');
    expect(poll).toHaveBeenCalled();
    source.stop();
  });

  it('reconnects with a new URL when asked (a new token)', () => {
    const { source, sockets } = setup(true);
    source.start();
    sockets[0]?.onopen?.();
    source.reconnect();
    expect(sockets[0]?.closed).toBe(true);
    expect(sockets).toHaveLength(2);
    source.stop();
  });
});

describe('stream messages', () => {
  it('parses the server frames and drops anything else', () => {
    expect(parseStreamMessage(JSON.stringify(frame()))?.type).toBe('snapshot');
    expect(parseStreamMessage(JSON.stringify({ type: 'heartbeat', timestamp: 1 }))?.type).toBe('heartbeat');
    expect(
      parseStreamMessage(JSON.stringify({ type: 'alert', alert_id: 'a:gpu0', status: 'firing', kind: 'firing' }))?.type,
    ).toBe('alert');
    expect(parseStreamMessage('not json')).toBeNull();
    expect(parseStreamMessage('null')).toBeNull();
    expect(parseStreamMessage(JSON.stringify({ type: 'alert' }))).toBeNull();
    expect(parseStreamMessage(JSON.stringify({ type: 'snapshot', gpus: 'x' }))).toBeNull();
    expect(parseStreamMessage(JSON.stringify({ type: 'mystery' }))).toBeNull();
  });

  it('builds the socket URL with rate and token', () => {
    const location = { protocol: 'https:', host: 'gpu.example:5500' } as Location;
    expect(streamUrl({}, location)).toBe('wss://gpu.example:5500/api/v1/stream');
    expect(streamUrl({ token: 'a.b c', rateHz: 2 }, location)).toBe('wss://gpu.example:5500/api/v1/stream?rate=2&token=a.b+c');
    expect(streamRateHz(500)).toBe(2);
    expect(streamRateHz(5000)).toBe(0.2);
  });

  it('turns a frame into the shape polling gets, for the selected GPU', () => {
    const previous = makeResponse(0, 2);
    const data = frameToMonitoringData(frame(), 1, {
      gpuList: previous.gpu_list,
      storageInfo: previous.storage,
      systemMetrics: null,
      gpuProcesses: [],
    });
    expect(data?.gpu_metrics?.gpu_id).toBe(1);
    expect(data?.gpu_metrics?.temperature).toBe(71);
    expect(data?.gpu_processes.map((process) => process.pid)).toEqual([11]);
    expect(data?.gpu_list).toHaveLength(2);
    expect(data?.storage[0]?.mount_point).toBe('/');
    expect(data?.system_metrics.cpu.usage_percent).toBe(33);
    expect(data?.timestamp).toBe(1_700_000_001);
  });

  it('keeps the previous host metrics and processes when the frame leaves them out', () => {
    const previous = makeResponse(0, 2);
    const data = frameToMonitoringData(frame({ system_metrics: undefined, gpu_processes: undefined }), 0, {
      gpuList: previous.gpu_list,
      storageInfo: [],
      systemMetrics: makeSystem(12),
      gpuProcesses: [{ pid: 1, process_name: 'kept', gpu_memory_mb: 1, cpu_percent: 1 }],
    });
    expect(data?.system_metrics.cpu.usage_percent).toBe(12);
    expect(data?.gpu_processes[0]?.process_name).toBe('kept');
  });
});
