import { useState } from 'react';
import type { FleetGPU, FleetNode } from '../../api/fleet';
import { nodePath } from '../../stores/urlState';
import { Link } from '../layout/router';
import { Panel } from '../SystemMonitor/Panel';
import { NodeStatusBadge } from './NodeStatusBadge';
import {
  cellLabelParts,
  groupByNode,
  HEAT_METRICS,
  heatBand,
  heatValue,
  TROUBLE_SYMBOL,
  TROUBLE_TEXT,
  troubles,
  type HeatMetric,
  type Trouble,
} from './heatmap';
import { useLevelBands } from '../../stores/metricCatalogue';

const LEGEND_TROUBLES: Trouble[] = ['offline', 'unresponsive', 'hot', 'alerts', 'stale'];

function Cell({ gpu, node, metric }: { gpu: FleetGPU; node: FleetNode | undefined; metric: HeatMetric }) {
  const value = heatValue(gpu, metric);
  const temperature = useLevelBands().temperature;
  const found = troubles(gpu, node, temperature);
  const worst = found[0];
  const parts = cellLabelParts(gpu, metric, found);
  // The link's name is its own text (visible and screen-reader-only parts), so it reads as the tooltip says.
  return (
    <li>
      <Link
        to={nodePath(gpu.node, gpu.gpu_id)}
        className="heat-cell"
        data-testid="heat-cell"
        data-node={gpu.node}
        data-gpu={gpu.gpu_id}
        data-band={heatBand(value, metric, temperature) ?? 'none'}
        data-trouble={worst ?? 'none'}
        title={parts.join('')}
      >
        <span className="sr-only">{parts[0]}</span>
        <span className="heat-gpu">{parts[1]}</span>
        <span className="sr-only">{parts[2]}</span>
        <span className="heat-value">{parts[3]}</span>
        {parts[4] && <span className="sr-only">{parts[4]}</span>}
        {worst && (
          <span className="heat-mark" aria-hidden="true">
            {TROUBLE_SYMBOL[worst]}
          </span>
        )}
      </Link>
    </li>
  );
}

/** One cell per GPU of every node, grouped by node and coloured by the chosen metric; trouble stands out
 * by a symbol and an outline as well as by colour. A cell opens its node's full view on that GPU. */
export function GPUHeatmap({ nodes, gpus }: { nodes: FleetNode[]; gpus: FleetGPU[] }) {
  const [metric, setMetric] = useState<HeatMetric>('utilization');
  const byName = new Map(nodes.map((node) => [node.name, node]));
  const groups = groupByNode(nodes, gpus).filter((group) => group.gpus.length > 0);
  const metricPicker = (
    <span className="segmented" role="group" aria-label="Colour by" data-testid="heat-metric">
      {HEAT_METRICS.map((option) => (
        <button
          key={option.key}
          type="button"
          aria-pressed={option.key === metric}
          onClick={() => setMetric(option.key)}
        >
          {option.label}
        </button>
      ))}
    </span>
  );
  return (
    <Panel level={2} title={`GPUs (${gpus.length})`} testId="fleet-heatmap" actions={metricPicker}>
      {groups.length === 0 ? (
        <p className="faint">No node reports a GPU.</p>
      ) : (
        <div className="heatmap">
          {groups.map((group) => {
            const node = byName.get(group.node);
            return (
              <div
                key={group.node}
                className="heat-group"
                role="group"
                aria-labelledby={`heat-node-${group.node}`}
                data-testid="heat-group"
                data-node={group.node}
                data-status={group.status}
              >
                <div className="heat-group-head">
                  <Link to={nodePath(group.node)} id={`heat-node-${group.node}`} className="heat-node">
                    {group.node}
                  </Link>
                  {node && <NodeStatusBadge node={node} withAge />}
                </div>
                <ul className="heat-cells" data-status={group.status}>
                  {group.gpus.map((gpu) => (
                    <Cell key={gpu.gpu_id} gpu={gpu} node={node} metric={metric} />
                  ))}
                </ul>
              </div>
            );
          })}
        </div>
      )}
      <ul className="heat-legend faint" aria-label="Legend">
        <li>
          <span className="heat-swatch" data-band="0" aria-hidden="true" /> low
          <span className="heat-swatch" data-band="2" aria-hidden="true" />
          <span className="heat-swatch" data-band="4" aria-hidden="true" /> high
        </li>
        {LEGEND_TROUBLES.map((trouble) => (
          <li key={trouble}>
            <span className="heat-legend-mark" aria-hidden="true">
              {TROUBLE_SYMBOL[trouble]}
            </span>{' '}
            {TROUBLE_TEXT[trouble]}
          </li>
        ))}
      </ul>
    </Panel>
  );
}
