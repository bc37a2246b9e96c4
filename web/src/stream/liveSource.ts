/**
 * Where live updates come from: the WebSocket stream when the service has one, polling otherwise.
 *
 * Polling runs until the socket is open and resumes the moment it closes, so the dashboard never goes
 * quiet while the stream reconnects (with backoff). The stream half is off until the service ships
 * `/api/v1/stream`; flip STREAM_ENABLED then and adapt `parseStreamMessage` to its messages.
 */
import type { GPUMetrics, MonitoringDataResponse } from '../types/system';

export const STREAM_ENABLED = false;
export const STREAM_PATH = '/api/v1/stream';
const RECONNECT_MIN_MS = 2_000;
const RECONNECT_MAX_MS = 30_000;

export type Transport = 'polling' | 'stream';

export interface StreamUpdate {
  data: MonitoringDataResponse;
  allGPUs?: GPUMetrics[];
}

/** The expected message: `{"type": "snapshot", "data": MonitoringDataResponse, "gpus"?: GPUMetrics[]}`. */
export function parseStreamMessage(raw: string): StreamUpdate | null {
  try {
    const message = JSON.parse(raw) as { type?: string; data?: MonitoringDataResponse; gpus?: GPUMetrics[] };
    if (message.type !== 'snapshot' || !message.data) return null;
    return { data: message.data, ...(message.gpus ? { allGPUs: message.gpus } : {}) };
  } catch {
    return null;
  }
}

export function streamUrl(gpuId: number, location: Location = window.location): string {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${location.host}${STREAM_PATH}?gpu_id=${gpuId}`;
}

interface LiveSourceOptions {
  intervalMs: number;
  poll: () => void;
  onUpdate: (update: StreamUpdate) => void;
  onTransport: (transport: Transport) => void;
  gpuId: () => number;
  streamEnabled?: boolean;
  createSocket?: (url: string) => WebSocket;
}

export class LiveSource {
  private timer: ReturnType<typeof setInterval> | null = null;
  private socket: WebSocket | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
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
    this.startPolling(true);
    if (this.streamEnabled) this.openSocket();
  }

  stop(): void {
    this.running = false;
    this.stopPolling();
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** The selected GPU changed: the stream must be asked for the new one. */
  reconnect(): void {
    if (!this.running || !this.socket) return;
    const socket = this.socket;
    this.socket = null;
    socket.close();
    this.openSocket();
  }

  private startPolling(immediately: boolean): void {
    this.stopPolling();
    this.timer = setInterval(this.options.poll, this.options.intervalMs);
    this.options.onTransport('polling');
    if (immediately) this.options.poll();
  }

  private stopPolling(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private openSocket(): void {
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: WebSocket;
    try {
      socket = create(streamUrl(this.options.gpuId()));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.stopPolling();
      this.options.onTransport('stream');
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      const update = parseStreamMessage(event.data);
      if (update) this.options.onUpdate(update);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.running) return;
      this.startPolling(true);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running) this.openSocket();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
  }
}
