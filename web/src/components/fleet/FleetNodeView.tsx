import { useLayoutEffect } from 'react';
import { findNode, useFleet } from '../../stores/fleet';
import { showNode } from '../../stores/liveTarget';
import { FLEET_PATH } from '../../stores/urlState';
import { Link } from '../layout/router';
import { SystemMonitor } from '../SystemMonitor/SystemMonitor';
import { formatAge } from './format';
import { NodeStatusBadge } from './NodeStatusBadge';

/** Where the node stands, above its full view: the way back, its status and, if it went quiet, since when. */
function NodeContext({ name }: { name: string }) {
  const nodes = useFleet((state) => state.nodes);
  const loaded = useFleet((state) => state.timestamp !== null);
  const node = findNode(nodes, name);
  return (
    <>
      <nav className="fleet-breadcrumb" aria-label="Breadcrumb">
        <Link to={FLEET_PATH} data-testid="back-to-fleet">
          ← Fleet
        </Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{name}</span>
        {node && <NodeStatusBadge node={node} withAge />}
      </nav>
      {loaded && !node && (
        <div className="banner banner-server" role="alert" data-testid="node-unknown">
          <div>
            <div className="banner-title">No node named {name}</div>
            <div className="banner-message">
              No node of this name or id has written to the fleet&apos;s database. <Link to={FLEET_PATH}>See every node</Link>
            </div>
          </div>
        </div>
      )}
      {node && node.status !== 'online' && (
        <div
          className={`banner ${node.status === 'offline' ? 'banner-unreachable' : 'banner-gpu'}`}
          role="alert"
          data-testid="node-offline"
        >
          <div>
            <div className="banner-title">
              {name} is {node.status}: last heartbeat {formatAge(node.last_seen_age_s)}
            </div>
            <div className="banner-message">
              The values below are the last it sent; they update again when it comes back.
            </div>
          </div>
        </div>
      )}
    </>
  );
}

/** A node's full System Monitor view, served by the hub from the fleet's database: the same page as a
 * node's own dashboard, fed by `/api/v1/stream?node=` and the history's `node=`. */
export function FleetNodeView({ name }: { name: string }) {
  // Before the first paint, so nothing of the previous target shows under this node's name.
  useLayoutEffect(() => {
    showNode(name);
    return () => showNode(null);
  }, [name]);
  return (
    <SystemMonitor
      title={
        <>
          <span data-testid="node-title">{name}</span>
          <span className="muted fleet-title-sub">System Monitor</span>
        </>
      }
      context={<NodeContext name={name} />}
    />
  );
}
