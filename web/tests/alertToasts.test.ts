import { describe, expect, it } from 'vitest';
import { alertPlace, toastFor } from '../src/stores/alertsStore';
import type { AlertEvent } from '../src/stream/liveSource';

const EVENT: AlertEvent = {
  type: 'alert',
  alert_id: 'hot:gpu2',
  status: 'firing',
  kind: 'firing',
  severity: 'warning',
  summary: '[FIRING] GPU hot: GPU 2 at 91 °C',
  instance: 'gpu2',
  rule: { id: 'hot', name: 'GPU hot' },
};

describe('where an alert toast says the alert is', () => {
  it("names this server's GPU or host", () => {
    expect(toastFor(EVENT, 1).title).toBe('Firing: GPU hot on GPU 2');
    expect(alertPlace({ instance: 'host' })).toBe('host');
  });

  it("names the node of another node's alert on a hub", () => {
    const event = { ...EVENT, status: 'resolved' as const, node: { name: 'beta', id: 'c'.repeat(32) } };
    expect(toastFor(event, 2).title).toBe('Resolved: GPU hot on beta GPU 2');
    expect(alertPlace({ instance: 'host', node: event.node })).toBe('beta host');
  });

  it("does not name the node twice for a fleet alert, whose instance starts with it", () => {
    const node = { name: 'gpu07', id: 'a'.repeat(32) };
    expect(alertPlace({ instance: 'gpu07', node })).toBe('gpu07');
    expect(alertPlace({ instance: 'gpu07/gpu1', node })).toBe('gpu07 GPU 1');
  });
});
