import { memo } from 'react';
import { useMetricLabel } from '../../stores/metricCatalogue';
import type { GPUHealth, GPUMetrics } from '../../types/system';
import { TableScroll } from '../layout/TableScroll';
import { MetricField } from './MetricField';
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

function Flag({ value, label }: { value: boolean | null | undefined; label: string }) {
  if (value === null || value === undefined) return <span className="na">N/A</span>;
  return value ? <span className="badge badge-warn">{label}</span> : <span className="muted">no</span>;
}

/** A yes/no reading the catalogue lists without a flat API field (pending retirement, remap failure). */
function FlagRow({ metricKey, value }: { metricKey: string; value: boolean | null | undefined }) {
  return (
    <MetricRow label={useMetricLabel(metricKey)}>
      <Flag value={value} label="yes" />
    </MetricRow>
  );
}

const HEALTH_FIELDS = [
  'health.xid_count',
  'health.ecc.corrected_volatile',
  'health.ecc.uncorrected_volatile',
  'health.ecc.corrected_aggregate',
  'health.ecc.uncorrected_aggregate',
  'health.retired_pages.single_bit',
  'health.retired_pages.double_bit',
  'health.remapped_rows.correctable',
  'health.remapped_rows.uncorrectable',
];

/** Shown on GPUs with NVLink only (null elsewhere). */
const NVLINK_ERROR_FIELDS = ['nvlink.crc_flit_errors', 'nvlink.crc_data_errors', 'nvlink.replay_errors', 'nvlink.recovery_errors'];

/** NVML_GRID_LICENSE_STATE_* in words. */
const VGPU_LICENSE_STATES: Record<number, string> = {
  0: 'unknown',
  1: 'uninitialized',
  2: 'unlicensed (unrestricted)',
  3: 'unlicensed (restricted)',
  4: 'unlicensed',
  5: 'licensed',
};

function VgpuLicenseRow({ state }: { state: number | null | undefined }) {
  const label = useMetricLabel('gpu.vgpu_license_state');
  if (state === null || state === undefined) return null; // bare metal: nothing to license
  const text = VGPU_LICENSE_STATES[state] ?? `state ${state}`;
  return (
    <MetricRow label={label}>
      <span className={state === 5 ? 'muted' : 'badge badge-warn'}>{text}</span>
    </MetricRow>
  );
}

/** NVML's cumulative clock-violation timers, in the registry's order. */
const VIOLATION_FIELDS = [
  'violations.power_s',
  'violations.thermal_s',
  'violations.sync_boost_s',
  'violations.board_limit_s',
  'violations.low_util_s',
  'violations.reliability_s',
];

function since(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString(undefined, { timeStyle: 'medium' });
}

export function healthStatus(gpu: GPUMetrics): { label: string; tone: 'ok' | 'warn' | 'critical' } {
  const health = gpu.health;
  if (gpu.lost || health?.lost) return { label: 'Lost', tone: 'critical' };
  if (gpu.unresponsive || health?.unresponsive) return { label: 'Unresponsive', tone: 'critical' };
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
    <TableScroll label="Recent XID errors">
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
    </TableScroll>
  );
}

/** XID errors, ECC, retired pages, remapped rows, throttle reasons and whether the GPU is still on the bus. */
export const HealthPanel = memo(function HealthPanel({ gpu }: { gpu: GPUMetrics }) {
  const health = gpu.health;
  const status = healthStatus(gpu);
  const reasons = health?.clock_event_reasons;
  const lost = gpu.lost || health?.lost;
  const reasonsLabel = useMetricLabel('gpu.clock_event_reasons');
  const unresponsiveSince = gpu.unresponsive_since ?? health?.unresponsive_since ?? null;
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
      {unresponsiveSince !== null && !lost && (
        <p className="text-critical" role="alert" data-testid="unresponsive">
          This GPU has not answered the driver since {since(unresponsiveSince)}: its readings are missing until it
          answers again. The other GPUs keep updating.
        </p>
      )}
      <div className="grid grid-2" style={{ gap: 16 }}>
        <div>
          {HEALTH_FIELDS.map((field) => (
            <MetricField key={field} field={field} source={gpu} testId={field === 'health.xid_count' ? 'xid-count' : undefined} />
          ))}
          <FlagRow metricKey="gpu.retired_pages_pending" value={health?.retired_pages.pending} />
          <FlagRow metricKey="gpu.remapped_rows_pending" value={health?.remapped_rows.pending} />
          <FlagRow metricKey="gpu.remapped_rows_failure" value={health?.remapped_rows.failure} />
          {gpu.nvlink?.crc_flit_errors !== null &&
            gpu.nvlink?.crc_flit_errors !== undefined &&
            NVLINK_ERROR_FIELDS.map((field) => <MetricField key={field} field={field} source={gpu} />)}
          <VgpuLicenseRow state={health?.vgpu_license_state} />
        </div>
        <div>
          <div className="metric-label" style={{ marginBottom: 6 }}>
            {reasonsLabel}
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
            Clock violation time, since the driver loaded
          </div>
          {VIOLATION_FIELDS.map((field) => (
            <MetricField key={field} field={field} source={gpu} />
          ))}
          <div className="metric-label" style={{ margin: '12px 0 6px' }}>
            Recent XID errors
          </div>
          {health ? <XidTable health={health} /> : <span className="na">N/A</span>}
        </div>
      </div>
    </Panel>
  );
});
