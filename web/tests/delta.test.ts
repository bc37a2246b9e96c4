import { describe, expect, it, vi } from 'vitest';
import { applyDelta, DeltaError } from '../src/stream/delta';
import { FrameTracker, LiveSource, RESYNC_MESSAGE, type SnapshotFrame } from '../src/stream/liveSource';
import serverCases from './streamDeltas.json';
import { makeGPU, makeSystem } from './fixtures';

/** Frames as the server renders them and the deltas between them (tests/test_json_delta.py writes them). */
const cases = serverCases as unknown as { old: SnapshotFrame; new: SnapshotFrame; patch: Record<string, unknown> }[];

function frame(seq: number, temperature: number | null = 50): SnapshotFrame {
  return {
    type: 'snapshot',
    seq,
    timestamp: 1_700_000_000 + seq,
    gpu_available: true,
    gpus: [makeGPU(0), makeGPU(1, { temperature })],
    gpu_processes: [{ pid: 10, process_name: 'train', gpu_memory_mb: 100, cpu_percent: 5, gpu_id: 0 }],
    system_metrics: makeSystem(20),
  };
}

describe('applyDelta', () => {
  it("rebuilds every frame from the server's own deltas, member order included", () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
    for (const { old, new: next, patch } of cases) {
      expect(JSON.stringify(applyDelta(old, patch))).toBe(JSON.stringify(next));
    }
    // Among them: a GPU leaving the frame and coming back.
    expect(cases.map((c) => c.new.gpus.length)).toContain(1);
  });

  it('sets nulls, removes members, replaces arrays and leaves the old frame alone', () => {
    const old = frame(1);
    const before = JSON.stringify(old);
    const next = applyDelta(old, {
      seq: 2,
      gpus: { '1': { temperature: null } },
      gpu_processes: [[]],
      system_metrics: [],
    });
    expect(next.gpus[1]?.temperature).toBeNull();
    expect(next.gpu_processes).toEqual([]);
    expect('system_metrics' in next).toBe(false);
    expect(JSON.stringify(old)).toBe(before);
    // An unchanged GPU is the same object, so its memoized panels skip rendering.
    expect(next.gpus[0]).toBe(old.gpus[0]);
    expect(next.gpus[1]).not.toBe(old.gpus[1]);
  });

  it('refuses a patch that does not fit the frame', () => {
    expect(() => applyDelta(frame(1), { gpus: { '5': { temperature: 1 } } })).toThrow(DeltaError);
    expect(() => applyDelta(frame(1), { seq: { a: 1 } })).toThrow(DeltaError);
  });
});

describe('FrameTracker', () => {
  it('applies deltas that follow the last frame and asks once for a full frame after a gap', () => {
    const tracker = new FrameTracker();
    expect(tracker.next(frame(1)).frame?.seq).toBe(1);
    const second = tracker.next({ type: 'delta', seq: 2, base_seq: 1, patch: { seq: 2, gpus: { '1': { temperature: 61 } } } });
    expect(second.frame?.gpus[1]?.temperature).toBe(61);
    // Frame 3 never came: the delta from 3 to 4 cannot apply.
    expect(tracker.next({ type: 'delta', seq: 4, base_seq: 3, patch: { seq: 4 } })).toEqual({ frame: null, askResync: true });
    expect(tracker.next({ type: 'delta', seq: 5, base_seq: 4, patch: { seq: 5 } })).toEqual({ frame: null, askResync: false });
    expect(tracker.next(frame(5, 70)).frame?.gpus[1]?.temperature).toBe(70);
    expect(tracker.next({ type: 'delta', seq: 6, base_seq: 5, patch: { seq: 6 } }).frame?.seq).toBe(6);
  });

  it('treats a delta that does not apply as a gap', () => {
    const tracker = new FrameTracker();
    tracker.next(frame(1));
    expect(tracker.next({ type: 'delta', seq: 2, base_seq: 1, patch: { gpus: { '9': { temperature: 1 } } } }).askResync).toBe(true);
  });
});

class FakeSocket {
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  sent: string[] = [];
  send(data: string) {
    this.sent.push(data);
  }
  close() {}
}

describe('LiveSource in incremental mode', () => {
  it('shows each rebuilt frame, resyncs after a gap, and starts over on a new socket', () => {
    vi.useFakeTimers();
    const sockets: FakeSocket[] = [];
    const shown: SnapshotFrame[] = [];
    const source = new LiveSource({
      intervalMs: 1000,
      poll: async () => true,
      onSnapshot: (f) => shown.push(f),
      onTransport: () => {},
      url: () => ({ url: 'ws://host/api/v1/stream?mode=delta', protocols: [] }),
      streamEnabled: true,
      createSocket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    source.start();
    const socket = sockets[0]!;
    socket.onopen?.();
    const deliver = (message: unknown) => socket.onmessage?.({ data: JSON.stringify(message) });
    deliver(frame(1));
    deliver({ type: 'delta', seq: 2, base_seq: 1, patch: { seq: 2, gpus: { '1': { temperature: 77 } } } });
    expect(shown.map((f) => [f.seq, f.gpus[1]?.temperature])).toEqual([
      [1, 50],
      [2, 77],
    ]);
    deliver({ type: 'delta', seq: 4, base_seq: 3, patch: { seq: 4 } });
    expect(socket.sent).toEqual([RESYNC_MESSAGE]);
    expect(shown).toHaveLength(2);
    deliver(frame(4, 80));
    expect(shown.at(-1)?.gpus[1]?.temperature).toBe(80);

    socket.onclose?.();
    vi.advanceTimersByTime(1000);
    const next = sockets[1]!;
    next.onopen?.();
    // A new socket knows no frame yet: a delta first is a gap, not something to apply to the old frame.
    next.onmessage?.({ data: JSON.stringify({ type: 'delta', seq: 5, base_seq: 4, patch: { seq: 5 } }) });
    expect(next.sent).toEqual([RESYNC_MESSAGE]);
    expect(shown).toHaveLength(3);
    source.stop();
    vi.useRealTimers();
  });
});
