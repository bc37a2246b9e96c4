import { afterEach, describe, expect, it, vi } from 'vitest';
import { showAlertNotification } from '../src/sw/notify';
import { registerServiceWorker, SERVICE_WORKER_URL, useAppUpdate } from '../src/sw/register';

/** navigator.serviceWorker as far as the dashboard uses it. */
function fakeContainer(options: { controller: unknown; active?: boolean }) {
  const listeners = new Map<string, () => void>();
  const showNotification = vi.fn(async () => undefined);
  const container = {
    controller: options.controller,
    register: vi.fn(async () => ({})),
    getRegistration: vi.fn(async () => (options.active ? { active: {}, showNotification } : undefined)),
    addEventListener: (type: string, listener: () => void) => listeners.set(type, listener),
  };
  vi.stubGlobal('navigator', { ...navigator, serviceWorker: container });
  vi.stubGlobal('isSecureContext', true);
  return { container, listeners, showNotification };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
  useAppUpdate.setState({ available: false });
});

describe('service worker registration', () => {
  it('registers /sw.js for the whole site and offers a reload when a new build takes over', () => {
    vi.stubEnv('DEV', false);
    const { container, listeners } = fakeContainer({ controller: {} });
    registerServiceWorker();
    expect(container.register).toHaveBeenCalledWith(SERVICE_WORKER_URL, { scope: '/' });
    expect(useAppUpdate.getState().available).toBe(false);
    listeners.get('controllerchange')?.();
    expect(useAppUpdate.getState().available).toBe(true);
  });

  it('the first worker to claim a page is no update, the next one is', () => {
    vi.stubEnv('DEV', false);
    const { listeners } = fakeContainer({ controller: null });
    registerServiceWorker();
    listeners.get('controllerchange')?.();
    expect(useAppUpdate.getState().available).toBe(false);
    listeners.get('controllerchange')?.();
    expect(useAppUpdate.getState().available).toBe(true);
  });

  it('stays out of the dev server', () => {
    vi.stubEnv('DEV', true);
    const { container } = fakeContainer({ controller: null });
    registerServiceWorker();
    expect(container.register).not.toHaveBeenCalled();
  });
});

describe('alert notifications', () => {
  it("go through the worker's registration when one is active", async () => {
    const { showNotification } = fakeContainer({ controller: {}, active: true });
    const constructed = vi.fn();
    vi.stubGlobal('Notification', constructed);
    await showAlertNotification('Firing: hot on GPU 0', { body: 'GPU 0 at 91 °C', tag: 'hot:gpu0' });
    expect(showNotification).toHaveBeenCalledWith('Firing: hot on GPU 0', { body: 'GPU 0 at 91 °C', tag: 'hot:gpu0' });
    expect(constructed).not.toHaveBeenCalled();
  });

  it('fall back to a page notification without a worker', async () => {
    fakeContainer({ controller: null, active: false });
    const constructed = vi.fn();
    vi.stubGlobal('Notification', constructed);
    await showAlertNotification('Resolved: hot on GPU 0', { tag: 'hot:gpu0' });
    expect(constructed).toHaveBeenCalledWith('Resolved: hot on GPU 0', { tag: 'hot:gpu0' });
  });
});
