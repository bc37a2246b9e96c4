/**
 * Shows an alert as a system notification. Through the service worker's registration where there is
 * one: such notifications reach the user while the tab is in the background (some browsers, Chrome on
 * Android among them, allow no other kind), and a click brings the dashboard back.
 */
import { serviceWorkersSupported } from './register';

export async function showAlertNotification(title: string, options: NotificationOptions): Promise<void> {
  const registration = serviceWorkersSupported() ? await navigator.serviceWorker.getRegistration() : undefined;
  if (registration?.active) {
    await registration.showNotification(title, options);
    return;
  }
  new Notification(title, options);
}
