import type { FleetNode } from '../../api/fleet';
import { nodePath } from '../../stores/urlState';
import { Link } from '../layout/router';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';
import { Panel } from '../SystemMonitor/Panel';
import { formatAge, STATUS_RANK } from './format';
import { NodeStatusBadge } from './NodeStatusBadge';

type NodeKey = 'name' | 'status' | 'last_seen_age_s' | 'gpu_count' | 'alerts_firing' | 'version';

const COLUMNS: SortColumn<NodeKey>[] = [
  { key: 'name', label: 'Node', numeric: false },
  { key: 'status', label: 'Status', numeric: true },
  { key: 'last_seen_age_s', label: 'Last seen', numeric: true },
  { key: 'gpu_count', label: 'GPUs', numeric: true },
  { key: 'alerts_firing', label: 'Alerts firing', numeric: true },
  { key: 'version', label: 'Version', numeric: false },
];

const valueOf = (node: FleetNode, key: NodeKey): unknown => (key === 'status' ? STATUS_RANK[node.status] : node[key]);

/** Every node of the fleet, sortable; a name opens that node's full view. */
export function NodeList({ nodes }: { nodes: FleetNode[] }) {
  const { sort, sortBy } = useSort<NodeKey>({ key: 'name', direction: 'ascending' });
  return (
    <Panel level={2} title={`Nodes (${nodes.length})`} testId="fleet-nodes">
      {nodes.length === 0 ? (
        <p className="faint">No node has written to this database yet.</p>
      ) : (
        <TableScroll label="Nodes of the fleet">
          <table>
            <thead>
              <tr>
                {COLUMNS.map((column) => (
                  <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
                ))}
              </tr>
            </thead>
            <tbody>
              {sortRows(nodes, valueOf, sort).map((node) => (
                <tr key={node.id} data-testid="fleet-node-row" data-node={node.name} data-status={node.status}>
                  <td>
                    <Link to={nodePath(node.name)} data-testid="fleet-node-link">
                      {node.name}
                    </Link>
                  </td>
                  <td>
                    <NodeStatusBadge node={node} />
                  </td>
                  <td title={new Date(node.last_seen * 1000).toLocaleString()}>{formatAge(node.last_seen_age_s)}</td>
                  <td className="num mono">{node.gpu_count}</td>
                  <td className="num mono">
                    {node.alerts_firing === null ? (
                      <span className="na" title="This node does not evaluate alerts">
                        N/A
                      </span>
                    ) : node.alerts_firing > 0 ? (
                      <span className="text-critical">{node.alerts_firing}</span>
                    ) : (
                      0
                    )}
                  </td>
                  <td className="mono">{node.version}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Panel>
  );
}
