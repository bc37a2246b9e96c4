import type { AlertSeverity } from '../../types/alerts';

const SEVERITY_CLASS: Record<AlertSeverity, string> = {
  info: 'badge',
  warning: 'badge badge-warn',
  critical: 'badge badge-critical',
};

export function SeverityBadge({ severity }: { severity: AlertSeverity }) {
  return <span className={SEVERITY_CLASS[severity] ?? 'badge'}>{severity}</span>;
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return unit && unit !== 'xid' ? `${text} ${unit}` : text;
}

/** ISO text or Unix seconds, in the browser's local time. */
export function formatTime(value: string | number | null): string {
  if (value === null) return '—';
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}
