import type { NodeStatus } from '../../api/fleet';

export const STATUS_TEXT: Record<NodeStatus, string> = { online: 'Online', stale: 'Stale', offline: 'Offline' };

export const STATUS_BADGE: Record<NodeStatus, string> = {
  online: 'badge-ok',
  stale: 'badge-warn',
  offline: 'badge-critical',
};

/** Worst last, so sorting by status puts trouble at the end (or, reversed, first). */
export const STATUS_RANK: Record<NodeStatus, number> = { online: 0, stale: 1, offline: 2 };

/** "just now", "12 s ago", "4 min ago", "3 h ago", "2 d ago". */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 1.5) return 'just now';
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}
