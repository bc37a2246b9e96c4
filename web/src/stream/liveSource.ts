/**
 * Where live updates come from: the WebSocket stream `/api/v1/stream` when it connects, polling otherwise.
 *
 * Polling runs until the socket is open and resumes the moment it closes, so the dashboard never goes
 * quiet while the stream reconnects (with backoff). While the stream is open a slow side poll still
 * fetches what its frames lack (the GPU list and storage).
 */
import type { GPUMetrics, GPUProcess, SystemMetrics } from '../types/system';
import type { AlertSeverity } from '../types/alerts';

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
}

export interface Heartbeat {
  type: 'heartbeat';
  timestamp: number;
}

export type StreamMessage = SnapshotFrame | AlertEvent | Heartbeat;

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
      return Array.isArray(message.gpus) && typeof message.gpu_available === 'boolean'
        ? (message as unknown as SnapshotFrame)
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
  /** Access token, sent as `?token=` because browsers cannot set headers on a WebSocket. */
  token?: string | null;
  /** Frames per second; left out, the server sends every snapshot. */
  rateHz?: number | null;
}

export function streamUrl(options: StreamUrlOptions = {}, location: Location = window.location): string {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams();
  if (options.rateHz) params.set('rate', String(options.rateHz));
  if (options.token) params.set('token', options.token);
  const query = params.toString();
  return `${protocol}//${location.host}${STREAM_PATH}${query ? `?${query}` : ''}`;
}

interface LiveSourceOptions {
  intervalMs: number;
  /** A full poll: used while the stream is down. */
  poll: () => void;
  /** The side poll while the stream is up; defaults to `poll`. */
  sidePoll?: () => void;
  onSnapshot: (frame: SnapshotFrame) => void;
  onAlert?: (event: AlertEvent) => void;
  onTransport: (transport: Transport) => void;
  /** Builds the socket's URL; `withRate` is false once the server refused a handshake with a rate. */
  url: (withRate: boolean) => string;
  streamEnabled?: boolean;
  createSocket?: (url: string) => WebSocket;
}

export class LiveSource {
  private timer: ReturnType<typeof setInterval> | null = null;
  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
  private withRate = true;
  private running = false;
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
    this.startPolling(this.options.poll, this.options.intervalMs, true);
    this.options.onTransport('polling');
    if (this.streamEnabled) this.openSocket();
  }

  stop(): void {
    this.running = false;
    this.stopPolling();
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
    socket?.close();
    this.clearTimer('reconnectTimer');
    this.openSocket();
  }

  private clearTimer(name: 'reconnectTimer' | 'silenceTimer'): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }

  private startPolling(poll: () => void, intervalMs: number, immediately: boolean): void {
    this.stopPolling();
    this.timer = setInterval(poll, intervalMs);
    if (immediately) poll();
  }

  private stopPolling(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private armSilenceTimer(socket: WebSocket): void {
    this.clearTimer('silenceTimer');
    this.silenceTimer = setTimeout(() => {
      if (this.socket === socket) this.fallBack(socket);
    }, SILENCE_LIMIT_MS);
  }

  private openSocket(): void {
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: WebSocket;
    try {
      socket = create(this.options.url(this.withRate));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.reconnectDelay = RECONNECT_MIN_MS;
      const sidePoll = this.options.sidePoll ?? this.options.poll;
      this.startPolling(sidePoll, Math.max(SIDE_POLL_MS, this.options.intervalMs), false);
      this.options.onTransport('stream');
      this.armSilenceTimer(socket);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      this.armSilenceTimer(socket);
      const message = parseStreamMessage(event.data);
      if (message?.type === 'snapshot') this.options.onSnapshot(message);
      else if (message?.type === 'alert') this.options.onAlert?.(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      // A handshake refused outright may be the rate (the server samples slower than we asked): drop it.
      if (!opened) this.withRate = false;
      this.fallBack(socket);
    };
  }

  private fallBack(socket: WebSocket): void {
    this.socket = null;
    this.clearTimer('silenceTimer');
    socket.close();
    if (!this.running) return;
    this.startPolling(this.options.poll, this.options.intervalMs, true);
    this.options.onTransport('polling');
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
