import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HardwareMetricsPanel } from '../src/components/SystemMonitor/HardwareMetricsPanel';
import { HealthPanel, healthStatus } from '../src/components/SystemMonitor/HealthPanel';
import { indexByField, useMetricCatalogue, type MetricEntry } from '../src/stores/metricCatalogue';
import { makeGPU } from './fixtures';

/** Catalogue entries as the server sends them (only the fields the dashboard reads matter here). */
function entry(key: string, label: string, format: MetricEntry['format'], apiField: string | null, apiUnit: string | null, unit: string): MetricEntry {
  return {
    key,
    scope: 'gpu',
    unit,
    help: `${label} help`,
    label,
    format,
    api_field: apiField,
    api_unit: apiUnit,
    history_name: null,
    history_unit: null,
    alert_name: null,
    alert_unit: null,
    prometheus_name: null,
    prometheus_type: null,
    prometheus_unit: null,
    thresholds: null,
  };
}

const CATALOGUE = [
  entry('gpu.nvlink_tx_bytes_per_s', 'NVLink TX', 'bytes_per_s', 'nvlink.tx_mb_per_s', 'MB/s', 'B/s'),
  entry('gpu.nvlink_rx_bytes_per_s', 'NVLink RX', 'bytes_per_s', 'nvlink.rx_mb_per_s', 'MB/s', 'B/s'),
  entry('gpu.pcie_replay_count', 'PCIe replays', 'count', 'pcie.replay_count', 'replays', ''),
  entry('gpu.memory_reserved_bytes', 'Memory reserved', 'bytes', 'memory.reserved_gb', 'GiB', 'B'),
  entry('gpu.thermal_violation_s', 'Temperature throttling', 'seconds', 'violations.thermal_s', 's', 's'),
  entry('gpu.power_violation_s', 'Power throttling', 'seconds', 'violations.power_s', 's', 's'),
  entry('gpu.nvlink_crc_flit_errors', 'NVLink CRC flit errors', 'count', 'nvlink.crc_flit_errors', 'errors', ''),
  entry('gpu.nvlink_replay_errors', 'NVLink replays', 'count', 'nvlink.replay_errors', 'errors', ''),
  entry('gpu.vgpu_license_state', 'vGPU license', 'number', 'health.vgpu_license_state', '', ''),
];

beforeEach(() => {
  useMetricCatalogue.setState({ byField: indexByField(CATALOGUE), byKey: new Map(CATALOGUE.map((e) => [e.key, e])), loaded: true });
});
afterEach(() => {
  cleanup();
  useMetricCatalogue.setState({ byField: new Map(), byKey: new Map(), loaded: false });
});

describe('new GPU readings', () => {
  it('show with the catalogue label and unit, and N/A where the GPU reports none', () => {
    const gpu = makeGPU(0, {
      nvlink: { tx_mb_per_s: 1250.5, rx_mb_per_s: null },
      pcie: { bandwidth_gbps: 63, generation: 5, width: 16, replay_count: 3 },
      memory: { used_gb: 20, total_gb: 80, used_percent: 25, reserved_gb: 0.5 },
    });
    render(<HardwareMetricsPanel gpu={gpu} />);
    const tx = screen.getByTestId('metric-nvlink.tx_mb_per_s');
    expect(tx.textContent).toBe('NVLink TX1250.5MB/s');
    expect(screen.getByTestId('metric-nvlink.rx_mb_per_s').textContent).toBe('NVLink RXN/A');
    expect(screen.getByTestId('metric-pcie.replay_count').textContent).toBe('PCIe replays3');
    expect(screen.getByTestId('metric-memory.reserved_gb').textContent).toBe('Memory reserved0.5GiB');
    expect(within(tx).getByTitle('NVLink TX help')).toBeTruthy();
  });

  it('a GPU without NVLink or violation counters shows N/A, not 0', () => {
    render(<HealthPanel gpu={makeGPU(0)} />);
    expect(screen.getByTestId('metric-violations.thermal_s').textContent).toBe('Temperature throttlingN/A');
    render(<HardwareMetricsPanel gpu={makeGPU(1)} />);
    expect(screen.getByTestId('metric-nvlink.tx_mb_per_s').textContent).toBe('NVLink TXN/A');
  });

  it('clock-violation times appear in the health panel', () => {
    const gpu = makeGPU(0, {
      violations: { power_s: 12.25, thermal_s: 0, sync_boost_s: null, board_limit_s: null, low_util_s: null, reliability_s: null },
    });
    render(<HealthPanel gpu={gpu} />);
    expect(screen.getByTestId('metric-violations.power_s').textContent).toBe('Power throttling12.3s');
    expect(screen.getByTestId('metric-violations.thermal_s').textContent).toBe('Temperature throttling0s');
  });
});

describe('NVLink errors and vGPU licence', () => {
  it('appear where the GPU reports them', () => {
    const gpu = makeGPU(0, {
      nvlink: { tx_mb_per_s: 1, rx_mb_per_s: 1, crc_flit_errors: 4, crc_data_errors: 0, replay_errors: 9, recovery_errors: 0 },
      health: {
        lost: false,
        unresponsive: false,
        xid_count: 0,
        last_xid: null,
        xid_events: [],
        clock_event_reasons: [],
        ecc: { corrected_volatile: 0, uncorrected_volatile: 0, corrected_aggregate: 0, uncorrected_aggregate: 0 },
        retired_pages: { single_bit: 0, double_bit: 0, pending: false },
        remapped_rows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
        vgpu_license_state: 4,
      },
    });
    render(<HealthPanel gpu={gpu} />);
    expect(screen.getByTestId('metric-nvlink.crc_flit_errors').textContent).toBe('NVLink CRC flit errors4');
    expect(screen.getByTestId('metric-nvlink.replay_errors').textContent).toBe('NVLink replays9');
    expect(screen.getByText('unlicensed')).toBeTruthy();
  });

  it('stay out of the way on a PCIe-only, bare-metal GPU', () => {
    render(<HealthPanel gpu={makeGPU(0)} />);
    expect(screen.queryByTestId('metric-nvlink.crc_flit_errors')).toBeNull();
    expect(screen.queryByText('vGPU license')).toBeNull();
  });
});

describe('unresponsive GPU', () => {
  it('is called unresponsive, with since when, in the health panel and its status', () => {
    const since = 1_700_000_000;
    const gpu = makeGPU(2, { unresponsive: true, unresponsive_since: since });
    expect(healthStatus(gpu)).toEqual({ label: 'Unresponsive', tone: 'critical' });
    render(<HealthPanel gpu={gpu} />);
    const notice = screen.getByTestId('unresponsive');
    expect(notice.textContent).toContain(new Date(since * 1000).toLocaleTimeString(undefined, { timeStyle: 'medium' }));
    expect(screen.getByTestId('health-status').textContent).toBe('Unresponsive');
  });

  it('a GPU that answers has no such notice', () => {
    render(<HealthPanel gpu={makeGPU(0)} />);
    expect(screen.queryByTestId('unresponsive')).toBeNull();
    expect(screen.getByTestId('health-status').textContent).not.toBe('Unresponsive');
  });
});
