import { memo } from 'react';
import type { GPUHealth, GPUMetrics } from '../../types/system';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricRow, Panel } from './Panel';

/** The XIDs an operator meets most often, so the table says what happened rather than a bare number. */
const XID_MEANINGS: Record<number, string> = {
  13: 'Graphics engine exception',
  31: 'GPU memory page fault',
  43: 'GPU stopped processing',
  45: 'Preemptive cleanup',
  48: 'Double-bit ECC error',
  61: 'Internal micro-controller breakpoint',
  62: 'Internal micro-controller halt',
  63: 'ECC page retirement or row remap',
  64: 'ECC page retirement or row remap failure',
  68: 'Video processor exception',
  74: 'NVLink error',
  79: 'GPU has fallen off the bus',
  92: 'High single-bit ECC error rate',
  94: 'Contained ECC error',
  95: 'Uncontained ECC error',
};

/** Throttle reasons that mean trouble, as opposed to idling or applications clocks. */
const TROUBLE_REASONS = /thermal|power_brake|hw_slowdown|hw_thermal|sw_thermal/i;

function Count({ value, bad }: { value: number | null | undefined; bad?: boolean }) {
  if (!isValidMetric(value)) return <span className="na">N/A</span>;
  return <span className={`mono ${bad && value > 0 ? 'text-critical' : ''}`}>{value}</span>;
}

function Flag({ value, label }: { value: boolean | null | undefined; label: string }) {
  if (value === null || value === undefined) return <span className="na">N/A</span>;
  return value ? <span className="badge badge-warn">{label}</span> : <span className="muted">no</span>;
}

export function healthStatus(gpu: GPUMetrics): { label: string; tone: 'ok' | 'warn' | 'critical' } {
  const health = gpu.health;
  if (gpu.lost || health?.lost) return { label: 'Lost', tone: 'critical' };
  if (!health) return { label: 'Unknown', tone: 'warn' };
  if ((health.ecc.uncorrected_volatile ?? 0) > 0 || health.remapped_rows.failure) {
    return { label: 'Memory errors', tone: 'critical' };
  }
  if (health.xid_count > 0 || health.retired_pages.pending || health.remapped_rows.pending) {
    return { label: 'Attention', tone: 'warn' };
  }
  return { label: 'Healthy', tone: 'ok' };
}

function XidTable({ health }: { health: GPUHealth }) {
  const events = [...health.xid_events].sort((a, b) => b.timestamp - a.timestamp).slice(0, 8);
  if (events.length === 0) return <p className="faint">No XID errors since the service started.</p>;
  return (
    <div className="table-wrap">
      <table aria-label="Recent XID errors">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col" className="num">
              XID
            </th>
            <th scope="col">Meaning</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={`${event.timestamp}-${event.xid}`}>
              <td className="mono">
                {new Date(event.timestamp * 1000).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}
              </td>
              <td className="num mono">{event.xid}</td>
              <td className="wrap">{XID_MEANINGS[event.xid] ?? 'See the NVIDIA XID catalogue'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** XID errors, ECC, retired pages, remapped rows, throttle reasons and whether the GPU is still on the bus. */
export const HealthPanel = memo(function HealthPanel({ gpu }: { gpu: GPUMetrics }) {
  const health = gpu.health;
  const status = healthStatus(gpu);
  const reasons = health?.clock_event_reasons;
  const lost = gpu.lost || health?.lost;
  return (
    <Panel
      title="Health"
      testId="panel-health"
      actions={
        <span className={`badge badge-${status.tone}`} data-testid="health-status">
          {status.label}
        </span>
      }
    >
      {lost && (
        <p className="text-critical" role="alert">
          This GPU stopped answering the driver (fallen off the bus). Its metrics are unavailable until it is
          recovered, usually by a reset or a reboot.
        </p>
      )}
      <div className="grid grid-2" style={{ gap: 16 }}>
        <div>
          <MetricRow label="XID errors" testId="xid-count">
            <Count value={health?.xid_count} bad />
          </MetricRow>
          <MetricRow label="Last XID">
            <Count value={health?.last_xid} />
          </MetricRow>
          <MetricRow label="ECC volatile (corr. / uncorr.)">
            <Count value={health?.ecc.corrected_volatile} /> / <Count value={health?.ecc.uncorrected_volatile} bad />
          </MetricRow>
          <MetricRow label="ECC aggregate (corr. / uncorr.)">
            <Count value={health?.ecc.corrected_aggregate} /> /{' '}
            <Count value={health?.ecc.uncorrected_aggregate} bad />
          </MetricRow>
          <MetricRow label="Retired pages (SBE / DBE)">
            <Count value={health?.retired_pages.single_bit} /> / <Count value={health?.retired_pages.double_bit} bad />
          </MetricRow>
          <MetricRow label="Retirement pending">
            <Flag value={health?.retired_pages.pending} label="pending" />
          </MetricRow>
          <MetricRow label="Remapped rows (corr. / uncorr.)">
            <Count value={health?.remapped_rows.correctable} /> /{' '}
            <Count value={health?.remapped_rows.uncorrectable} bad />
          </MetricRow>
          <MetricRow label="Remap pending / failed">
            <Flag value={health?.remapped_rows.pending} label="pending" /> /{' '}
            <Flag value={health?.remapped_rows.failure} label="failed" />
          </MetricRow>
        </div>
        <div>
          <div className="metric-label" style={{ marginBottom: 6 }}>
            Clock throttle reasons
          </div>
          {reasons === null || reasons === undefined ? (
            <span className="na">N/A</span>
          ) : reasons.length === 0 ? (
            <span className="badge badge-ok">none: full clocks</span>
          ) : (
            <div className="chip-list" data-testid="throttle-reasons">
              {reasons.map((reason) => (
                <span key={reason} className={`badge ${TROUBLE_REASONS.test(reason) ? 'badge-warn' : ''}`}>
                  {reason.replace(/_/g, ' ')}
                </span>
              ))}
            </div>
          )}
          <div className="metric-label" style={{ margin: '12px 0 6px' }}>
            Recent XID errors
          </div>
          {health ? <XidTable health={health} /> : <span className="na">N/A</span>}
        </div>
      </div>
    </Panel>
  );
});
