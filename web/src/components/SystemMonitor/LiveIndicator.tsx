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
          ? 'Live · stream'
          : `Live · ${intervalMs / 1000} s`;
  return (
    <span className="live-indicator" data-testid="live-indicator" data-state={state} role="status">
      <span className="live-dot" data-state={state} aria-hidden="true" />
      {label}
    </span>
  );
}
