import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FleetAlert } from '../src/api/fleet';
import { ActiveAlertsPanel } from '../src/components/alerts/ActiveAlertsPanel';
import { useAlertsStore } from '../src/stores/alertsStore';
import { useFleet } from '../src/stores/fleet';
import type { ActiveAlert } from '../src/types/alerts';

const LOCAL: ActiveAlert = {
  id: 'gpu-temperature-critical:gpu1',
  rule_id: 'gpu-temperature-critical',
  rule_name: 'GPU temperature critical',
  metric: 'gpu.temperature_c',
  unit: '°C',
  severity: 'critical',
  instance: 'gpu1',
  gpu_id: 1,
  state: 'firing',
  value: 91,
  threshold: 90,
  condition: '>',
  active_since: '2026-01-01T00:00:00+00:00',
  fired_at: '2026-01-01T00:00:00+00:00',
  acknowledged: false,
  acknowledged_by: null,
  silenced: false,
};

function fleetAlert(acknowledgedBy: string | null): FleetAlert {
  return {
    ...LOCAL,
    id: 'fleet-gpu-unresponsive:gpu07/gpu3',
    source: 'fleet',
    rule_id: 'fleet-gpu-unresponsive',
    rule_name: 'GPU unresponsive',
    metric: 'event.gpu_unresponsive',
    unit: '',
    node: 'gpu07',
    node_id: 'a'.repeat(32),
    instance: 'gpu07/gpu3',
    gpu_id: 3,
    state: 'firing',
    condition: '>=',
    notified: true,
    acknowledged: acknowledgedBy !== null,
    acknowledged_by: acknowledgedBy,
    acknowledged_at: acknowledgedBy ? '2026-01-01T00:01:00+00:00' : null,
  };
}

const HUB_ID = 'b'.repeat(32);

/** A node's own alert as a hub lists it: the node's view of it, named by its node. */
function nodeAlert(node: string, nodeId: string, gpu: number | null, acknowledgedBy: string | null = null): FleetAlert {
  const local = gpu === null ? 'host' : `gpu${gpu}`;
  return {
    ...fleetAlert(acknowledgedBy),
    id: `${LOCAL.rule_id}:${node}/${local}`,
    source: 'node',
    rule_id: LOCAL.rule_id,
    rule_name: LOCAL.rule_name,
    metric: LOCAL.metric,
    unit: LOCAL.unit,
    node,
    node_id: nodeId,
    instance: `${node}/${local}`,
    gpu_id: gpu,
    condition: '>',
  };
}

const requests: { method: string; url: string }[] = [];
let fleetAcked: string | null = null;
let betaAcked: string | null = null;
const BETA_ID = 'c'.repeat(32);

function answer(url: string, method: string): unknown {
  if (url.endsWith('/api/v1/fleet/nodes')) return { timestamp: 0, hub: { node: 'hub', evaluates_fleet_alerts: false }, nodes: [] };
  if (url.endsWith('/api/v1/fleet/alerts')) {
    // The hub's own alert (GPU 1, as in its local list) is in the fleet list too: shown once.
    const alerts = [fleetAlert(fleetAcked), nodeAlert('beta', BETA_ID, 2, betaAcked), nodeAlert('hub', HUB_ID, 1)];
    return { alerts, count: alerts.length, hub_node_id: HUB_ID };
  }
  if (method === 'POST' && url.includes('/api/v1/fleet/alerts/beta')) throw new Error('ids are escaped');
  if (method === 'POST' && url.includes(encodeURIComponent('gpu-temperature-critical:beta/gpu2'))) {
    betaAcked = 'root-admin';
    return nodeAlert('beta', BETA_ID, 2, betaAcked);
  }
  if (method === 'POST' && url.includes('/api/v1/fleet/alerts/')) {
    fleetAcked = 'root-admin';
    return fleetAlert(fleetAcked);
  }
  if (url.endsWith('/api/v1/alerts')) return { alerts: [LOCAL], count: 1 };
  throw new Error(`unexpected request ${method} ${url}`);
}

beforeEach(() => {
  requests.length = 0;
  fleetAcked = null;
  betaAcked = null;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET';
      requests.push({ method, url });
      return new Response(JSON.stringify(answer(url, method)), { status: 200, headers: { 'Content-Type': 'application/json' } });
    }),
  );
  useFleet.setState({ hub: true });
  useAlertsStore.setState({ active: [], activeError: null });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  useFleet.setState({ hub: null });
});

const row = (id: string) => screen.getAllByTestId('active-alert').find((r) => r.dataset.alertId === id)!;

describe('fleet alerts in the active alert list of a hub', () => {
  it('lists them with their node beside the local ones, and acknowledges one through the fleet API', async () => {
    await useAlertsStore.getState().refreshActive();
    render(<ActiveAlertsPanel canEdit />);
    const fleet = row('fleet-gpu-unresponsive:gpu07/gpu3');
    expect(within(fleet).getByText('gpu07 GPU 3')).toBeTruthy();
    expect(within(row(LOCAL.id)).getByText('GPU 1')).toBeTruthy();

    fireEvent.click(within(fleet).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(within(row('fleet-gpu-unresponsive:gpu07/gpu3')).getByText('Acknowledged by root-admin')).toBeTruthy());
    const acks = requests.filter((r) => r.method === 'POST');
    expect(acks.map((r) => r.url)).toEqual([`/api/v1/fleet/alerts/${encodeURIComponent('fleet-gpu-unresponsive:gpu07/gpu3')}/ack`]);
    expect(within(row(LOCAL.id)).getByRole('button', { name: 'Acknowledge' })).toBeTruthy();
  });

  it("lists every other node's own alerts with their node, and acknowledges one from the hub", async () => {
    await useAlertsStore.getState().refreshActive();
    render(<ActiveAlertsPanel canEdit />);
    const ids = screen.getAllByTestId('active-alert').map((r) => r.dataset.alertId);
    expect(ids.sort()).toEqual([LOCAL.id, 'fleet-gpu-unresponsive:gpu07/gpu3', 'gpu-temperature-critical:beta/gpu2'].sort());
    const beta = row('gpu-temperature-critical:beta/gpu2');
    expect(within(beta).getByText('beta GPU 2')).toBeTruthy();

    fireEvent.click(within(beta).getByRole('button', { name: 'Acknowledge' }));
    await waitFor(() => expect(within(row('gpu-temperature-critical:beta/gpu2')).getByText('Acknowledged by root-admin')).toBeTruthy());
    const acks = requests.filter((r) => r.method === 'POST').map((r) => r.url);
    expect(acks).toEqual([`/api/v1/fleet/alerts/${encodeURIComponent('gpu-temperature-critical:beta/gpu2')}/ack`]);
    expect(within(row('fleet-gpu-unresponsive:gpu07/gpu3')).getByRole('button', { name: 'Acknowledge' })).toBeTruthy();
  });

  it('lists only the local alerts on a server that is not a hub', async () => {
    useFleet.setState({ hub: false });
    await useAlertsStore.getState().refreshActive();
    expect(useAlertsStore.getState().active.map((a) => a.id)).toEqual([LOCAL.id]);
    expect(requests.some((r) => r.url.includes('/fleet/'))).toBe(false);
  });
});
