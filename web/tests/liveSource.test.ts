import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveSource, parseStreamMessage, type Transport } from '../src/stream/liveSource';
import { makeResponse } from './fixtures';

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

describe('LiveSource', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(streamEnabled: boolean) {
    const sockets: FakeSocket[] = [];
    const poll = vi.fn();
    const onUpdate = vi.fn();
    const transports: Transport[] = [];
    const source = new LiveSource({
      intervalMs: 1000,
      poll,
      onUpdate,
      onTransport: (transport) => transports.push(transport),
      gpuId: () => 2,
      streamEnabled,
      createSocket: (url) => {
        const socket = new FakeSocket(url);
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
    });
    return { source, sockets, poll, onUpdate, transports };
  }

  it('only polls while the stream is disabled', () => {
    const { source, sockets, poll } = setup(false);
    source.start();
    vi.advanceTimersByTime(3000);
    expect(poll).toHaveBeenCalledTimes(4);
    expect(sockets).toHaveLength(0);
    source.stop();
  });

  it('stops polling once the stream is open and falls back to polling when it closes', () => {
    const { source, sockets, poll, onUpdate, transports } = setup(true);
    source.start();
    expect(sockets[0]?.url).toContain('/api/v1/stream?gpu_id=2');
    sockets[0]?.onopen?.();
    poll.mockClear();
    vi.advanceTimersByTime(5000);
    expect(poll).not.toHaveBeenCalled();
    expect(transports.at(-1)).toBe('stream');

    sockets[0]?.onmessage?.({ data: JSON.stringify({ type: 'snapshot', data: makeResponse() }) });
    expect(onUpdate).toHaveBeenCalledTimes(1);

    sockets[0]?.onclose?.();
    expect(transports.at(-1)).toBe('polling');
    expect(poll).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(2000);
    expect(sockets).toHaveLength(2); // reconnecting with backoff
    source.stop();
    expect(sockets[1]?.closed).toBe(true);
  });

  it('ignores messages it does not understand', () => {
    expect(parseStreamMessage('not json')).toBeNull();
    expect(parseStreamMessage(JSON.stringify({ type: 'alert' }))).toBeNull();
  });
});
