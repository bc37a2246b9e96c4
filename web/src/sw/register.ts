/**
 * Installs the service worker (`/sw.js`, built from src/sw/worker.js): the app shell opens at once and
 * while the server is down, and alert notifications go through it. A new build's worker takes over on
 * its own; a page that an older worker served then offers a reload.
 */
import { create } from 'zustand';

export const SERVICE_WORKER_URL = '/sw.js';

interface AppUpdateState {
  /** A newer dashboard took over this page's worker: reloading shows it. */
  available: boolean;
}

export const useAppUpdate = create<AppUpdateState>()(() => ({ available: false }));

export function serviceWorkersSupported(): boolean {
  // Browsers offer service workers only in secure contexts: https, or http on localhost.
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && window.isSecureContext;
}

export function registerServiceWorker(): void {
  if (!serviceWorkersSupported() || import.meta.env.DEV) return;
  const container = navigator.serviceWorker;
  // The first worker to claim a page is no update; any later one is a newer build.
  let controlled = container.controller !== null;
  container.addEventListener('controllerchange', () => {
    if (controlled) useAppUpdate.setState({ available: true });
    controlled = true;
  });
  const register = () => {
    container.register(SERVICE_WORKER_URL, { scope: '/' }).catch(() => {
      // No worker (a private window, a browser policy): the dashboard works as before, online only.
    });
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
