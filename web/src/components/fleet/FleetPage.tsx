import { useEffect, useState } from 'react';
import { startFleetPolling, useFleet } from '../../stores/fleet';
import { useServerHistory } from '../../stores/serverHistory';
import type { TimeRange } from '../../types/system';
import { nodeFromPath } from '../../stores/urlState';
import { Panel } from '../SystemMonitor/Panel';
import { UsageRangePicker, UsageTables, UsageUnavailable, useUsage } from '../usage/UsageView';
import { FleetNodeView } from './FleetNodeView';
import { FreeGPUFinder } from './FreeGPUFinder';
import { GPUHeatmap } from './GPUHeatmap';
import { NodeList } from './NodeList';

/** Who used what across every node of the fleet. */
function FleetUsage() {
  const [range, setRange] = useState<TimeRange>('24h');
  const { usage, error } = useUsage(range, 'all');
  return (
    <Panel
      level={2}
      title="Usage across the fleet"
      testId="fleet-usage"
      actions={<UsageRangePicker range={range} onChange={setRange} />}
    >
      {error && <UsageUnavailable error={error} />}
      {usage && <UsageTables usage={usage} fleet level={3} />}
    </Panel>
  );
}

function FleetOverview() {
  const nodes = useFleet((state) => state.nodes);
  const gpus = useFleet((state) => state.gpus);
  const error = useFleet((state) => state.error);
  const loaded = useFleet((state) => state.timestamp !== null);
  const history = useServerHistory((state) => state.available);
  const online = nodes.filter((node) => node.status === 'online').length;
  const offline = nodes.filter((node) => node.status === 'offline').length;
  const stale = nodes.length - online - offline;
  return (
    <>
      <header className="monitor-header">
        <h1>Fleet</h1>
        {loaded && (
          <span className="muted" data-testid="fleet-summary" role="status">
            {nodes.length} node{nodes.length === 1 ? '' : 's'}: {online} online
            {stale > 0 ? `, ${stale} stale` : ''}
            {offline > 0 ? `, ${offline} offline` : ''} · {gpus.length} GPU{gpus.length === 1 ? '' : 's'}
          </span>
        )}
      </header>
      {error && (
        <div className="banner banner-server" role="alert">
          <div>
            <div className="banner-title">The fleet is not updating</div>
            <div className="banner-message">{error}</div>
          </div>
        </div>
      )}
      {!loaded ? (
        <p className="muted" role="status">
          Reading the fleet…
        </p>
      ) : (
        <div className="grid fleet-grid">
          <NodeList nodes={nodes} />
          <GPUHeatmap nodes={nodes} gpus={gpus} />
          <FreeGPUFinder />
          {history && <FleetUsage />}
        </div>
      )}
    </>
  );
}

/** The Fleet page of a hub: `/fleet` for every node, `/fleet/<node>` for one node's full view. */
export function FleetPage({ path }: { path: string }) {
  useEffect(() => startFleetPolling(), []);
  const node = nodeFromPath(path);
  return node === null ? <FleetOverview /> : <FleetNodeView name={node} />;
}
