import type { FleetNode } from '../../api/fleet';
import { formatAge, STATUS_BADGE, STATUS_TEXT } from './format';

/** A node's status in words (the colour only repeats it), with when it was last heard of. */
export function NodeStatusBadge({ node, withAge = false }: { node: FleetNode; withAge?: boolean }) {
  return (
    <span className={`badge ${STATUS_BADGE[node.status]}`} data-testid="node-status" data-status={node.status}>
      {STATUS_TEXT[node.status]}
      {withAge && node.status !== 'online' ? ` · last seen ${formatAge(node.last_seen_age_s)}` : ''}
    </span>
  );
}
