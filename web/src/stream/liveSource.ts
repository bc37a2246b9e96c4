/**
 * Where live updates come from: the WebSocket stream `/api/v1/stream` when it connects, polling otherwise.
 *
 * Polling runs until the socket is open and resumes the moment it closes, so the dashboard never goes
 * quiet while the stream reconnects (with backoff). While the stream is open a slow side poll still
 * fetches what its frames lack (the GPU list and storage). Failed polls back off to one probe every few
 * seconds, for as long as the outage lasts, so the page resumes by itself when the server returns.
 *
 * In incremental mode (`mode=delta`) the server sends one full frame and then deltas from the previous
 * frame; each delta names the frame it applies to (`base_seq`). One that does not match the last frame
 * (a gap) is dropped and the server is asked for a full frame (`{"type": "resync"}`); a new socket always
 * starts with a full frame.
 */
import type { GPUMetrics, GPUProcess, SystemMetrics } from '../types/system';
import type { AlertSeverity } from '../types/alerts';
import { applyDelta } from './delta';

export const STREAM_ENABLED = true;
export const STREAM_PATH = '/api/v1/stream';
/** While streaming, how often the side poll refreshes the GPU list and storage. */
export const SIDE_POLL_MS = 10_000;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** The server sends a heartbeat after 15 s of silence: twice that without any frame means a dead socket. */
const SILENCE_LIMIT_MS = 35_000;

export type Transport = 'polling' | 'stream';

/** One snapshot as the stream sends it: every GPU, plus processes and host metrics unless filtered out. */
export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  /** Unix seconds. */
  timestamp: number;
  gpu_available: boolean;
  gpus: GPUMetrics[];
  gpu_processes?: GPUProcess[];
  system_metrics?: SystemMetrics;
}

/** An alert transition (the webhook payload plus `notify`). */
export interface AlertEvent {
  type: 'alert';
  alert_id: string;
  status: 'firing' | 'resolved';
  kind: string;
  severity: AlertSeverity;
  summary: string;
  instance?: string;
  value?: number | null;
  timestamp?: string;
  notify?: boolean;
  rule?: { id: string; name: string };
  /** On a hub: the node whose alert it is (a fleet alert's, or another node's own). */
  node?: { name: string; id: string };
}

export interface Heartbeat {
  type: 'heartbeat';
  timestamp: number;
}

/** What changed since frame `base_seq` (incremental mode); applied, it gives frame `seq`. */
export interface DeltaFrame {
  type: 'delta';
  seq: number;
  base_seq: number;
  patch: Record<string, unknown> | [SnapshotFrame];
}

export type StreamMessage = SnapshotFrame | DeltaFrame | AlertEvent | Heartbeat;

export const RESYNC_MESSAGE = JSON.stringify({ type: 'resync' });

function isSnapshot(message: Record<string, unknown>): boolean {
  return message.type === 'snapshot' && Array.isArray(message.gpus) && typeof message.gpu_available === 'boolean';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The server's frames, checked just enough that a malformed one is dropped rather than rendered. */
export function parseStreamMessage(raw: string): StreamMessage | null {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(message)) return null;
  switch (message.type) {
    case 'snapshot':
      return isSnapshot(message) ? (message as unknown as SnapshotFrame) : null;
    case 'delta':
      return typeof message.seq === 'number' && typeof message.base_seq === 'number' && isObject(message.patch)
        ? (message as unknown as DeltaFrame)
        : null;
    case 'alert':
      return typeof message.alert_id === 'string' && typeof message.status === 'string'
        ? (message as unknown as AlertEvent)
        : null;
    case 'heartbeat':
      return message as unknown as Heartbeat;
    default:
      return null;
  }
}

export interface StreamUrlOptions {
  /** Access token, sent as the subprotocols `bearer, <token>`: browsers cannot set headers on a WebSocket,
   * and a URL would put it in the server's log. */
  token?: string | null;
  /** Frames per second; left out, the server sends every snapshot. */
  rateHz?: number | null;
  /** On a hub: stream this node of the fleet instead of the hub's own GPUs. */
  node?: string | null;
  /** Ask for incremental frames (`mode=delta`): a full frame, then only what changed. */
  incremental?: boolean;
}

/** Where to open the stream and the subprotocols that carry the token. */
export interface StreamTarget {
  url: string;
  protocols: string[];
}

export function streamUrl(options: StreamUrlOptions = {}, location: Location = window.location): StreamTarget {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams();
  if (options.rateHz) params.set('rate', String(options.rateHz));
  if (options.node) params.set('node', options.node);
  if (options.incremental) params.set('mode', 'delta');
  const query = params.toString();
  const url = `${protocol}//${location.host}${STREAM_PATH}${query ? `?${query}` : ''}`;
  return { url, protocols: options.token ? ['bearer', options.token] : [] };
}

interface LiveSourceOptions {
  intervalMs: number;
  /** A full poll, used while the stream is down; resolves to whether the server answered. */
  poll: () => Promise<boolean>;
  /** The side poll while the stream is up. */
  sidePoll?: () => void;
  onSnapshot: (frame: SnapshotFrame) => void;
  onAlert?: (event: AlertEvent) => void;
  onTransport: (transport: Transport) => void;
  /** Builds the socket's URL; `withRate` is false once the server refused a handshake with a rate. */
  url: (withRate: boolean) => StreamTarget;
  streamEnabled?: boolean;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

/** First wait after a failed poll; each further failure doubles it, up to the probe interval. */
export const RETRY_MIN_MS = 1_000;
/** However long an outage lasts, the server is probed this often, so the page resumes by itself. */
export const PROBE_INTERVAL_MS = 5_000;

/**
 * Rebuilds full frames from one socket's messages. `next` answers the frame to show, or null: for a
 * delta that does not follow the last frame (or does not apply) it answers null and sets `needsResync`
 * until a full frame arrives.
 */
export class FrameTracker {
  private latest: SnapshotFrame | null = null;
  needsResync = false;

  next(message: SnapshotFrame | DeltaFrame): { frame: SnapshotFrame | null; askResync: boolean } {
    if (message.type === 'snapshot') {
      this.latest = message;
      this.needsResync = false;
      return { frame: message, askResync: false };
    }
    const latest = this.latest;
    if (!this.needsResync && latest !== null && latest.seq === message.base_seq) {
      try {
        const frame = applyDelta(latest, message.patch);
        if (isObject(frame) && isSnapshot(frame as unknown as Record<string, unknown>) && frame.seq === message.seq) {
          this.latest = frame;
          return { frame, askResync: false };
        }
      } catch {
        // A delta that does not apply is a gap like any other: fall through to a resync.
      }
    }
    const askResync = !this.needsResync;
    this.needsResync = true;
    this.latest = null;
    return { frame: null, askResync };
  }
}

/** How long to wait before the next poll after `failures` failed ones in a row. */
export function pollDelayMs(intervalMs: number, failures: number): number {
  if (failures === 0) return intervalMs;
  return Math.max(intervalMs, Math.min(PROBE_INTERVAL_MS, RETRY_MIN_MS * 2 ** (failures - 1)));
}

export class LiveSource {
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private sideTimer: ReturnType<typeof setInterval> | null = null;
  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
  private withRate = true;
  private running = false;
  private streaming = false;
  private pollInFlight = false;
  private pollFailures = 0;
  private readonly options: LiveSourceOptions;

  constructor(options: LiveSourceOptions) {
    this.options = options;
  }

  private get streamEnabled(): boolean {
    return (this.options.streamEnabled ?? STREAM_ENABLED) && typeof WebSocket !== 'undefined';
  }

  start(): void {
    this.stop();
    this.running = true;
    this.options.onTransport('polling');
    this.schedulePoll(0);
    if (this.streamEnabled) this.openSocket();
  }

  stop(): void {
    this.running = false;
    this.streaming = false;
    this.clearPollTimer();
    this.clearSideTimer();
    this.clearTimer('reconnectTimer');
    this.clearTimer('silenceTimer');
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** Something the URL carries changed (the token): open a new socket with it. */
  reconnect(): void {
    if (!this.running || !this.streamEnabled) return;
    const socket = this.socket;
    this.socket = null;
    this.streaming = false;
    socket?.close();
    this.clearTimer('reconnectTimer');
    this.openSocket();
  }

  /** Try now rather than at the next backoff step (Retry, or what the page shows changed). */
  pollNow(): void {
    if (!this.running) return;
    this.pollFailures = 0;
    if (!this.streaming) this.schedulePoll(0);
    if (this.streamEnabled && this.socket === null) {
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.clearTimer('reconnectTimer');
      this.openSocket();
    }
  }

  private clearTimer(name: 'reconnectTimer' | 'silenceTimer'): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }

  private clearPollTimer(): void {
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private clearSideTimer(): void {
    if (this.sideTimer !== null) clearInterval(this.sideTimer);
    this.sideTimer = null;
  }

  /** Polls are chained, never stacked: the next is scheduled when the last has answered. */
  private schedulePoll(delayMs: number): void {
    this.clearPollTimer();
    if (!this.running || this.streaming) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.runPoll();
    }, delayMs);
  }

  private async runPoll(): Promise<void> {
    if (this.pollInFlight || !this.running || this.streaming) return;
    this.pollInFlight = true;
    let answered = false;
    try {
      answered = await this.options.poll();
    } finally {
      this.pollInFlight = false;
    }
    if (!this.running || this.streaming) return;
    this.pollFailures = answered ? 0 : this.pollFailures + 1;
    // The server is back while the socket waits out a long backoff: try the stream at once.
    if (answered && this.streamEnabled && this.socket === null && this.reconnectDelay > RECONNECT_MIN_MS) {
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.clearTimer('reconnectTimer');
      this.openSocket();
    }
    this.schedulePoll(pollDelayMs(this.options.intervalMs, this.pollFailures));
  }

  private armSilenceTimer(socket: WebSocket): void {
    this.clearTimer('silenceTimer');
    this.silenceTimer = setTimeout(() => {
      if (this.socket === socket) this.fallBack(socket);
    }, SILENCE_LIMIT_MS);
  }

  private openSocket(): void {
    const create =
      this.options.createSocket ?? ((url: string, protocols: string[]) => new WebSocket(url, protocols));
    let socket: WebSocket;
    try {
      const target = this.options.url(this.withRate);
      socket = create(target.url, target.protocols);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    const tracker = new FrameTracker();
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.streaming = true;
      this.pollFailures = 0;
      this.clearPollTimer();
      const sidePoll = this.options.sidePoll;
      if (sidePoll) this.sideTimer = setInterval(sidePoll, Math.max(SIDE_POLL_MS, this.options.intervalMs));
      this.options.onTransport('stream');
      this.armSilenceTimer(socket);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      this.armSilenceTimer(socket);
      const message = parseStreamMessage(event.data);
      if (message?.type === 'snapshot' || message?.type === 'delta') {
        const { frame, askResync } = tracker.next(message);
        if (askResync) socket.send(RESYNC_MESSAGE);
        if (frame) this.options.onSnapshot(frame);
      } else if (message?.type === 'alert') this.options.onAlert?.(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      // A handshake refused outright may be the rate (the server samples slower than we asked): drop it.
      if (!opened) this.withRate = false;
      this.fallBack(socket);
    };
  }

  /** The socket is gone: poll on the current backoff (at once only if the server was fine until now). */
  private fallBack(socket: WebSocket): void {
    const wasStreaming = this.streaming;
    this.socket = null;
    this.streaming = false;
    this.clearTimer('silenceTimer');
    this.clearSideTimer();
    socket.close();
    if (!this.running) return;
    if (wasStreaming) {
      this.options.onTransport('polling');
      this.schedulePoll(0);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.clearTimer('reconnectTimer');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.openSocket();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
  }
}
