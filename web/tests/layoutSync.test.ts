import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServerLayout, ServerPreferences } from '../src/api/preferences';
import { startLayoutSync, useLayoutSync } from '../src/stores/layoutSync';
import { createPreferencesStore } from '../src/stores/preferences';
import { DEFAULT_LAYOUTS, visiblePanels } from '../src/utils/panelLayout';
import { memoryStorage } from './fixtures';

/** A server keeping one user's layout, as the real one does, with a gate to hold its answers. */
function fakeServer(saved: ServerLayout | null = null) {
  const server = {
    saved,
    puts: 0,
    get: vi.fn(async (): Promise<ServerPreferences> => ({ layout: server.saved, updated_at: server.saved ? 1 : null })),
    put: vi.fn(async (layout: ServerLayout): Promise<ServerPreferences> => {
      server.puts += 1;
      server.saved = JSON.parse(JSON.stringify(layout)) as ServerLayout;
      return { layout: server.saved, updated_at: 2 };
    }),
  };
  return server;
}

function setup(server: ReturnType<typeof fakeServer>, signedIn: string | null) {
  const preferences = createPreferencesStore(memoryStorage());
  let user = signedIn;
  const listeners = new Set<() => void>();
  const stop = startLayoutSync({
    preferences,
    api: server,
    user: () => user,
    onUserChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    saveDelayMs: 50,
  });
  const signIn = (name: string | null) => {
    user = name;
    listeners.forEach((listener) => listener());
  };
  return { preferences, stop, signIn };
}

const settle = () => vi.advanceTimersByTimeAsync(100);

afterEach(() => vi.useRealTimers());

describe('layout sync', () => {
  it('keeps an anonymous layout in the browser only', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { preferences, stop } = setup(server, null);
    preferences.getState().changeLayout({ type: 'hide', view: 'single', id: 'fan' });
    await settle();
    expect(server.get).not.toHaveBeenCalled();
    expect(server.put).not.toHaveBeenCalled();
    expect(useLayoutSync.getState().state).toBe('browser');
    stop();
  });

  it("on sign-in takes the server's layout over the browser's", async () => {
    vi.useFakeTimers();
    const server = fakeServer({ single: { order: ['processes'], hidden: ['trends'] }, compare: { order: [], hidden: [] } });
    const { preferences, stop, signIn } = setup(server, null);
    preferences.getState().changeLayout({ type: 'hide', view: 'single', id: 'health' });
    signIn('ada');
    await settle();
    const single = preferences.getState().layouts.single;
    expect(single.hidden).toEqual(['trends']);
    expect(visiblePanels(single)).toContain('health');
    expect(single.order.at(-2)).toBe('processes');
    expect(server.puts).toBe(0); // taking the server's copy is not a change to send back
    expect(useLayoutSync.getState().state).toBe('saved');
    stop();
  });

  it("gives a server without a layout this browser's, then saves each change once it settles", async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const { preferences, stop } = setup(server, 'ada');
    preferences.getState().changeLayout({ type: 'hide', view: 'single', id: 'fan' });
    await settle();
    expect(server.saved?.single?.hidden).toEqual(['fan']);

    preferences.getState().changeLayout({ type: 'step', view: 'single', id: 'utilization', by: 1 });
    preferences.getState().changeLayout({ type: 'step', view: 'single', id: 'utilization', by: 1 });
    expect(useLayoutSync.getState().state).toBe('saving');
    await settle();
    const puts = server.puts;
    expect(server.saved?.single?.order?.slice(0, 4)).toEqual(['trends', 'temperature', 'power', 'utilization']);
    expect(useLayoutSync.getState().state).toBe('saved');

    preferences.getState().changeLayout({ type: 'reset', view: 'single' });
    stop(); // leaving the page still saves the change waiting
    await settle();
    expect(server.puts).toBe(puts + 1);
    expect(server.saved?.single).toEqual(DEFAULT_LAYOUTS.single);
  });

  it('reads the server only after the change saved on leaving the page has landed', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    let land: () => void = () => undefined;
    const first = setup(server, 'ada');
    await settle();
    server.put.mockImplementationOnce(async (layout: ServerLayout) => {
      await new Promise<void>((resolve) => (land = resolve));
      server.saved = layout;
      return { layout, updated_at: 3 };
    });
    first.preferences.getState().changeLayout({ type: 'hide', view: 'single', id: 'storage' });
    first.stop(); // the save is still on its way when the dashboard opens again

    const again = setup(server, 'ada');
    await settle();
    expect(server.get).toHaveBeenCalledTimes(1);
    land();
    await settle();
    expect(server.get).toHaveBeenCalledTimes(2);
    expect(again.preferences.getState().layouts.single.hidden).toEqual(['storage']);
    again.stop();
  });

  it('says so when the server refuses, and keeps the browser copy', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    server.put.mockRejectedValue(new Error('The data directory cannot be written'));
    const { preferences, stop } = setup(server, 'ada');
    preferences.getState().changeLayout({ type: 'hide', view: 'compare', id: 'trends' });
    await settle();
    expect(useLayoutSync.getState()).toEqual({
      state: 'error',
      message: 'Layout not saved to your account: The data directory cannot be written',
    });
    expect(preferences.getState().layouts.compare.hidden).toContain('trends');
    stop();
  });
});
