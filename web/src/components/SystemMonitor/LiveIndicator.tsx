interface LiveIndicatorProps {
  isPolling: boolean;
  isConnected: boolean;
  intervalMs: number;
  transport: 'polling' | 'stream';
}

export function LiveIndicator({ isPolling, isConnected, intervalMs, transport }: LiveIndicatorProps) {
  const state = !isConnected ? 'error' : isPolling ? 'live' : 'paused';
  const label =
    state === 'error'
      ? 'Disconnected'
      : state === 'paused'
        ? 'Paused'
        : transport === 'stream'
          ? `Live · stream · ${intervalMs / 1000} s`
          : `Polling · ${intervalMs / 1000} s`;
  const title =
    transport === 'stream'
      ? 'Updates are pushed over the live stream (WebSocket)'
      : 'The live stream is not connected: the dashboard asks the server for updates';
  return (
    <span
      className="live-indicator"
      data-testid="live-indicator"
      data-state={state}
      data-transport={transport}
      title={title}
      role="status"
    >
      <span className="live-dot" data-state={state} aria-hidden="true" />
      {label}
    </span>
  );
}
