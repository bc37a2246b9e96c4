/**
 * Keeps a signed-in user's panel layout on the server, so it follows them to any browser. On sign-in (and
 * whenever the dashboard opens) the server's copy wins over the browser's; a server that has none gets the
 * browser's. Every change is saved shortly after it is made. Anonymous dashboards keep the browser copy.
 */
import { create } from 'zustand';
import { preferencesApi, type ServerLayout, type ServerPreferences } from '../api/preferences';
import { useSession } from '../auth/session';
import type { DashboardLayouts } from '../utils/panelLayout';
import { usePreferences, type PreferencesStore } from './preferences';

/** `browser`: nobody signed in; `saving`/`saved`/`error`: the server copy's state. */
export type LayoutSyncState = 'browser' | 'loading' | 'saving' | 'saved' | 'error';

export const useLayoutSync = create<{ state: LayoutSyncState; message: string | null }>()(() => ({
  state: 'browser',
  message: null,
}));

export interface LayoutSyncDeps {
  preferences?: PreferencesStore;
  /** The signed-in user's name, or null; and a way to hear when it changes. */
  user?: () => string | null;
  onUserChange?: (listener: () => void) => () => void;
  api?: { get: () => Promise<ServerPreferences>; put: (layout: ServerLayout) => Promise<ServerPreferences> };
  saveDelayMs?: number;
}

const SAVE_DELAY_MS = 400;
/** The last save, kept across instances: a dashboard opened again reads the server only after it lands. */
let lastSave: Promise<unknown> = Promise.resolve();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Start syncing; the returned function stops it, saving a change still waiting. */
export function startLayoutSync(deps: LayoutSyncDeps = {}): () => void {
  const preferences = deps.preferences ?? usePreferences;
  const user = deps.user ?? (() => useSession.getState().tokens?.username ?? null);
  const onUserChange =
    deps.onUserChange ??
    ((listener: () => void) =>
      useSession.subscribe((state, previous) => {
        if (state.tokens?.username !== previous.tokens?.username) listener();
      }));
  const api = deps.api ?? preferencesApi;
  const saveDelayMs = deps.saveDelayMs ?? SAVE_DELAY_MS;
  const report = (state: LayoutSyncState, message: string | null = null) => useLayoutSync.setState({ state, message });

  let generation = 0; // bumped per user, so an answer for a previous user is dropped
  let synced: DashboardLayouts | null = null; // what the server holds, as far as we know
  let timer: ReturnType<typeof setTimeout> | null = null;

  const save = async (forUser: number) => {
    timer = null;
    const layouts = preferences.getState().layouts;
    if (forUser !== generation || layouts === synced) return;
    report('saving');
    try {
      const saving = api.put(layouts);
      lastSave = saving.catch(() => undefined);
      await saving;
      if (forUser !== generation) return;
      synced = layouts;
      report(preferences.getState().layouts === layouts ? 'saved' : 'saving');
    } catch (error) {
      if (forUser === generation) report('error', `Layout not saved to your account: ${messageOf(error)}`);
    }
  };

  const pull = async () => {
    const mine = ++generation;
    synced = null;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (user() === null) {
      report('browser');
      return;
    }
    report('loading');
    try {
      await lastSave;
      const server = await api.get();
      if (mine !== generation) return;
      if (server.layout) {
        preferences.getState().setLayouts(server.layout);
        synced = preferences.getState().layouts;
        report('saved');
      } else {
        await save(mine); // a first sign-in: the server starts from this browser's layout
      }
    } catch (error) {
      if (mine === generation) report('error', `Layout not loaded from your account: ${messageOf(error)}`);
    }
  };

  const unsubscribeLayouts = preferences.subscribe((state, previous) => {
    if (state.layouts === previous.layouts || state.layouts === synced || user() === null) return;
    if (useLayoutSync.getState().state === 'loading') return; // the server's copy is on its way and wins
    if (timer !== null) clearTimeout(timer);
    const mine = generation;
    timer = setTimeout(() => void save(mine), saveDelayMs);
    report('saving');
  });
  const unsubscribeUser = onUserChange(() => void pull());
  void pull();

  return () => {
    unsubscribeLayouts();
    unsubscribeUser();
    if (timer !== null) {
      clearTimeout(timer);
      void save(generation);
    }
    generation += 1;
  };
}
