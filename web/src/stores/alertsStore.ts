/**
 * What the whole app knows about alerts: the active ones (for the navigation badge), the toasts raised
 * by live alert events, and whether the user opted into browser notifications.
 */
import { create } from 'zustand';
import { alertsApi } from '../api/alerts';
import { fleetApi } from '../api/fleet';
import { useFleet } from './fleet';
import { showAlertNotification } from '../sw/notify';
import { errorMessage } from '../utils/errors';
import type { AlertEvent } from '../stream/liveSource';
import type { ActiveAlert } from '../types/alerts';

export const NOTIFICATIONS_KEY = 'gpu-sentinel.notifications';
const TOAST_LIFETIME_MS = 8_000;
const MAX_TOASTS = 4;

export interface Toast {
  id: number;
  status: 'firing' | 'resolved';
  severity: AlertEvent['severity'];
  title: string;
  body: string;
}

export interface AlertsState {
  active: ActiveAlert[];
  /** Null until loaded; false when alerting is off or unreachable (the nav item still shows). */
  activeError: string | null;
  toasts: Toast[];
  /** Bumped by every firing or resolved event, so views of the alert history know to read it again. */
  transitionCount: number;
  notificationsEnabled: boolean;
  refreshActive: () => Promise<void>;
  handleEvent: (event: AlertEvent) => void;
  dismissToast: (id: number) => void;
  setNotificationsEnabled: (enabled: boolean) => Promise<void>;
}

function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function storedOptIn(): boolean {
  try {
    return localStorage.getItem(NOTIFICATIONS_KEY) === 'on' && notificationsSupported() && Notification.permission === 'granted';
  } catch {
    return false;
  }
}

/** Only transitions a person cares about: pending and quietly cleared pendings stay in the history. */
export function isNotifiable(event: AlertEvent): boolean {
  return event.kind === 'firing' || event.kind === 'resolved';
}

/** Where an alert is: `GPU 0` or `host` on this server; on a hub also its node (`beta GPU 2`, `gpu07`), whose
 * name a fleet alert's instance starts with already (`gpu07/gpu1`). */
export function alertPlace(event: Pick<AlertEvent, 'instance' | 'node'>): string {
  const local = (instance: string) => instance.replace(/^gpu(\d+)$/, 'GPU $1');
  const instance = event.instance ?? '';
  if (!event.node) return local(instance);
  const name = event.node.name;
  const onNode = instance === name ? '' : instance.startsWith(`${name}/`) ? instance.slice(name.length + 1) : instance;
  return onNode ? `${name} ${local(onNode)}` : name;
}

export function toastFor(event: AlertEvent, id: number): Toast {
  const name = event.rule?.name ?? event.alert_id;
  const where = alertPlace(event);
  return {
    id,
    status: event.status,
    severity: event.severity,
    title: `${event.status === 'firing' ? 'Firing' : 'Resolved'}: ${name}${where ? ` on ${where}` : ''}`,
    body: event.summary,
  };
}

/** On a hub, the fleet alerts and every other node's own too, in the same list: each says its node. The hub's
 * own alerts come from its local list, where they are acknowledged. */
async function activeFleetAlerts(): Promise<ActiveAlert[]> {
  await useFleet.getState().probe();
  if (useFleet.getState().hub !== true) return [];
  const fleet = await fleetApi.alerts();
  return fleet.alerts.filter((alert) => alert.source === 'fleet' || alert.node_id !== fleet.hub_node_id);
}

let nextToastId = 1;

export const useAlertsStore = create<AlertsState>()((set, get) => ({
  active: [],
  activeError: null,
  toasts: [],
  transitionCount: 0,
  notificationsEnabled: storedOptIn(),

  refreshActive: async () => {
    try {
      const [local, fleet] = await Promise.all([alertsApi.active(), activeFleetAlerts()]);
      set({ active: [...local, ...fleet], activeError: null });
    } catch (error) {
      set({ activeError: errorMessage(error) });
    }
  },

  handleEvent: (event) => {
    if (!isNotifiable(event)) return;
    set((state) => ({ transitionCount: state.transitionCount + 1 }));
    const toast = toastFor(event, nextToastId++);
    set({ toasts: [...get().toasts, toast].slice(-MAX_TOASTS) });
    setTimeout(() => get().dismissToast(toast.id), TOAST_LIFETIME_MS);
    if (get().notificationsEnabled && notificationsSupported() && Notification.permission === 'granted') {
      // The tag makes a resolved notification replace the firing one for the same alert.
      const tag = event.node ? `${event.node.id}:${event.alert_id}` : event.alert_id; // two nodes' hot:gpu0 differ
      void showAlertNotification(toast.title, { body: toast.body, tag }).catch(() => {
        // The browser withdrew the permission meanwhile: the toast still shows the alert.
      });
    }
    void get().refreshActive();
  },

  dismissToast: (id) => set({ toasts: get().toasts.filter((toast) => toast.id !== id) }),

  setNotificationsEnabled: async (enabled) => {
    let granted = enabled;
    if (enabled) {
      granted =
        notificationsSupported() &&
        (Notification.permission === 'granted' || (await Notification.requestPermission()) === 'granted');
    }
    localStorage.setItem(NOTIFICATIONS_KEY, granted ? 'on' : 'off');
    set({ notificationsEnabled: granted });
  },
}));

export function firingCount(alerts: ActiveAlert[]): number {
  return alerts.filter((alert) => alert.state === 'firing').length;
}
