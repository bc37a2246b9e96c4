/** Alert transitions from the live stream, fanned out to whoever listens (toasts, notifications, badge). */
import type { AlertEvent } from './liveSource';

type Listener = (event: AlertEvent) => void;
const listeners = new Set<Listener>();

export function onAlertEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function emitAlertEvent(event: AlertEvent): void {
  listeners.forEach((listener) => listener(event));
}
