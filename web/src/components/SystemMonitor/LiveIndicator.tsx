import { livePhase, useConnection } from '../../stores/connection';
import { CAUSE_TITLE } from './ErrorBanner';

/** A fleet node's heartbeat status, where the page shows a node of the fleet through a hub. */
export type WatchedNodeStatus = 'online' | 'stale' | 'offline';

/**
 * Live, polling, or why not: the page's and the navigation bar's one connection state. On a hub's view of
 * a node, a node that went quiet is not live however well the hub answers: its last values stay on screen.
 */
export function LiveIndicator({ intervalMs, nodeStatus }: { intervalMs: number; nodeStatus?: WatchedNodeStatus | null }) {
  const phase = useConnection(livePhase);
  const transport = useConnection((state) => state.transport);
  const cause = useConnection((state) => state.cause);
  const failing = phase === 'failing' || phase === 'stopped';
  const quiet = !failing && (nodeStatus === 'offline' || nodeStatus === 'stale');
  const state = failing || nodeStatus === 'offline' ? 'error' : quiet ? 'paused' : phase;
  const seconds = `${intervalMs / 1000} s`;
  const label = failing
    ? `${cause ? CAUSE_TITLE[cause] : 'Disconnected'}${phase === 'stopped' ? ' · stopped' : ' · retrying'}`
    : quiet
      ? `Node ${nodeStatus} · last values`
      : phase === 'paused'
        ? 'Paused'
        : phase === 'connecting'
          ? 'Connecting…'
          : transport === 'stream'
            ? `Live · stream · ${seconds}`
            : `Polling · ${seconds}`;
  const title = quiet
    ? 'The node has stopped sending its heartbeat: these are the last values it sent'
    : transport === 'stream'
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
