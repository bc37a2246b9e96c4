import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LiveSource,
  PROBE_INTERVAL_MS,
  SIDE_POLL_MS,
  parseStreamMessage,
  pollDelayMs,
  streamUrl,
  type SnapshotFrame,
  type Transport,
} from '../src/stream/liveSource';
import { frameFromPoll, frameFromStream, streamRateHz } from '../src/stores/liveController';
import { resolveGPU, selectGPU, selectProcesses } from '../src/stores/liveData';
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
    const server = { up: true };
    const poll = vi.fn(async () => server.up);
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
        return { url: `ws://host/api/v1/stream${withRate ? '?rate=1' : ''}`, protocols: [] };
      },
      streamEnabled,
      createSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    return { source, sockets, poll, sidePoll, onSnapshot, onAlert, transports, urls, server };
  }

  it('only polls while the stream is disabled', async () => {
    const { source, sockets, poll } = setup(false);
    source.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(poll).toHaveBeenCalledTimes(4);
    expect(sockets).toHaveLength(0);
    source.stop();
  });

  it('backs off while the server is down, probes every few seconds, and resumes by itself', async () => {
    const { source, poll, server } = setup(false);
    server.up = false;
    source.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(poll).toHaveBeenCalledTimes(1);
    // Waits of 1, 2, 4, 5, 5 s: five failures take twelve seconds, not five intervals.
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 5000 - 1);
    expect(poll).toHaveBeenCalledTimes(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(poll).toHaveBeenCalledTimes(5);
    // An hour later it is still probing, once per probe interval.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(poll).toHaveBeenCalledTimes(5 + 3_600_000 / PROBE_INTERVAL_MS);
    server.up = true;
    await vi.advanceTimersByTimeAsync(PROBE_INTERVAL_MS);
    poll.mockClear();
    await vi.advanceTimersByTimeAsync(3000);
    expect(poll).toHaveBeenCalledTimes(3); // back to the update interval
    source.stop();
  });

  it('polls at once when asked to (Retry), whatever the backoff', async () => {
    const { source, poll, server } = setup(false);
    server.up = false;
    source.start();
    await vi.advanceTimersByTimeAsync(12_000);
    const before = poll.mock.calls.length;
    source.pollNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(poll).toHaveBeenCalledTimes(before + 1);
    source.stop();
  });

  it('streams once open, keeps a slow side poll, and falls back to polling when the socket closes', async () => {
    const { source, sockets, poll, sidePoll, onSnapshot, onAlert, transports } = setup(true);
    source.start();
    expect(transports).toEqual(['polling']);
    sockets[0]?.onopen?.();
    poll.mockClear();
    await vi.advanceTimersByTimeAsync(SIDE_POLL_MS);
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
    await vi.advanceTimersByTimeAsync(0);
    expect(poll).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(2); // reconnecting with backoff
    source.stop();
    expect(sockets[1]?.closed).toBe(true);
  });

  it('a dying stream does not add polls to a failing server', async () => {
    const { source, sockets, poll, server } = setup(true);
    source.start();
    await vi.advanceTimersByTimeAsync(0);
    server.up = false;
    // Every reconnect attempt is refused too, as a stopped server does.
    let refused = 0;
    for (let second = 0; second < 30; second += 1) {
      for (const socket of sockets.slice(refused)) socket.onclose?.();
      refused = sockets.length;
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(sockets.length).toBeGreaterThan(3);
    // Polls follow the backoff alone: 1 + (1, 2, 4, 5, 5, 5, 5, 5 s within 30 s).
    expect(poll.mock.calls.length).toBeLessThanOrEqual(10);
    source.stop();
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

  it('gives up on a socket that goes silent and polls instead', async () => {
    const { source, sockets, transports, poll } = setup(true);
    source.start();
    sockets[0]?.onopen?.();
    poll.mockClear();
    await vi.advanceTimersByTimeAsync(36_000);
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

describe('poll backoff', () => {
  it('waits the update interval while healthy and at most the probe interval when not', () => {
    expect(pollDelayMs(500, 0)).toBe(500);
    expect([1, 2, 3, 4, 5, 50].map((failures) => pollDelayMs(500, failures))).toEqual([1000, 2000, 4000, 5000, 5000, 5000]);
    expect(pollDelayMs(5000, 1)).toBe(5000);
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

  it('builds the socket URL with the rate, and carries the token in subprotocols, never in the URL', () => {
    const location = { protocol: 'https:', host: 'gpu.example:5500' } as Location;
    expect(streamUrl({}, location)).toEqual({ url: 'wss://gpu.example:5500/api/v1/stream', protocols: [] });
    expect(streamUrl({ token: 'a.b-c', rateHz: 2 }, location)).toEqual({
      url: 'wss://gpu.example:5500/api/v1/stream?rate=2',
      protocols: ['bearer', 'a.b-c'],
    });
    expect(streamUrl({ rateHz: 2, incremental: true }, location).url).toBe('wss://gpu.example:5500/api/v1/stream?rate=2&mode=delta');
    expect(streamRateHz(500)).toBe(2);
    expect(streamRateHz(5000)).toBe(0.2);
  });

  it('turns a frame into the next live frame, keeping the GPU list and storage it lacks', () => {
    const previous = frameFromPoll(makeResponse(0, 2), null);
    const next = frameFromStream(frame(), previous);
    expect(selectGPU(next, 1)?.temperature).toBe(71);
    expect(selectProcesses(next, 1).map((process) => process.pid)).toEqual([11]);
    expect(next?.gpuList).toHaveLength(2);
    expect(next?.storage[0]?.mount_point).toBe('/');
    expect(next?.system?.cpu.usage_percent).toBe(33);
    expect(next?.snapshotTime).toBe(1_700_000_001_000);
  });

  it('keeps the previous host metrics and processes when the frame leaves them out', () => {
    const previous = {
      ...frameFromPoll(makeResponse(0, 2), null),
      system: makeSystem(12),
      processes: [{ pid: 1, process_name: 'kept', gpu_memory_mb: 1, cpu_percent: 1 }],
    };
    const next = frameFromStream(frame({ system_metrics: undefined, gpu_processes: undefined }), previous);
    expect(next?.system?.cpu.usage_percent).toBe(12);
    expect(selectProcesses(next, 0)[0]?.process_name).toBe('kept');
  });

  it('shows the first GPU when the remembered one is not on this server', () => {
    const live = frameFromPoll(makeResponse(0, 2), null);
    expect(resolveGPU(live, 1)).toBe(1);
    expect(resolveGPU(live, 7)).toBe(0);
    expect(resolveGPU(null, 7)).toBe(7);
  });
});
