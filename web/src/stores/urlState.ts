/**
 * The dashboard's GPU, view and range live in its URL too (`/?gpu=3&view=compare&range=24h`), so a link
 * opens what its sender saw and Back steps through earlier choices; a fleet node's view
 * (`/fleet/<node>?gpu=…`) keeps them the same way. The URL wins over what this browser
 * remembered; every later choice pushes a history entry.
 */
import { LIVE_TIME_RANGES, SERVER_ONLY_TIME_RANGES, type TimeRange, type ViewMode } from '../types/system';
import type { Preferences, PreferencesStore } from './preferences';

type UrlPreferences = Pick<Preferences, 'selectedGPU' | 'viewMode' | 'timeRange'>;

const RANGES: readonly string[] = [...LIVE_TIME_RANGES, ...SERVER_ONLY_TIME_RANGES];
const VIEWS: readonly string[] = ['single', 'compare'];

export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/index.html';
}

export const FLEET_PATH = '/fleet';

/** The address of a fleet node's full view (on a hub), optionally opened on one of its GPUs. */
export function nodePath(node: string, gpuId?: number): string {
  const path = `${FLEET_PATH}/${encodeURIComponent(node)}`;
  return gpuId === undefined ? path : `${path}?gpu=${gpuId}`;
}

/** The node a `/fleet/<node>` address names; null for `/fleet` itself and any other page. */
export function nodeFromPath(path: string): string | null {
  const match = /^\/fleet\/([^/]+)\/?$/.exec(path);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

export function isFleetPath(path: string): boolean {
  return path === FLEET_PATH || path.startsWith(`${FLEET_PATH}/`);
}

/** Pages that show the System Monitor: this server's dashboard, or a fleet node's full view. */
export function showsMonitor(path: string): boolean {
  return isDashboardPath(path) || nodeFromPath(path) !== null;
}

/** What the query asks for; anything malformed is ignored rather than guessed at. */
export function preferencesFromQuery(search: string): Partial<UrlPreferences> {
  const params = new URLSearchParams(search);
  const wanted: Partial<UrlPreferences> = {};
  const gpu = params.get('gpu');
  if (gpu !== null && /^\d{1,6}$/.test(gpu)) wanted.selectedGPU = Number(gpu);
  const view = params.get('view');
  if (view !== null && VIEWS.includes(view)) wanted.viewMode = view as ViewMode;
  const range = params.get('range');
  if (range !== null && RANGES.includes(range)) wanted.timeRange = range as TimeRange;
  return wanted;
}

export function queryFromPreferences(preferences: UrlPreferences): string {
  const params = new URLSearchParams({
    gpu: String(preferences.selectedGPU),
    view: preferences.viewMode,
    range: preferences.timeRange,
  });
  return `?${params.toString()}`;
}

/** Keeps the store and the URL in step until the returned function is called. */
export function syncUrlWithPreferences(store: PreferencesStore, win: Window = window): () => void {
  let applying = false;
  const apply = () => {
    if (!showsMonitor(win.location.pathname)) return;
    const wanted = preferencesFromQuery(win.location.search);
    applying = true;
    store.setState(wanted);
    applying = false;
    // Complete the address in place: the entry the user arrived on, now naming all three.
    const query = queryFromPreferences(store.getState());
    if (query !== win.location.search) win.history.replaceState(win.history.state, '', `${win.location.pathname}${query}`);
  };
  apply();
  win.addEventListener('popstate', apply);
  const unsubscribe = store.subscribe((state, previous) => {
    if (applying || !showsMonitor(win.location.pathname)) return;
    if (
      state.selectedGPU === previous.selectedGPU &&
      state.viewMode === previous.viewMode &&
      state.timeRange === previous.timeRange
    ) {
      return;
    }
    const query = queryFromPreferences(state);
    if (query !== win.location.search) win.history.pushState(win.history.state, '', `${win.location.pathname}${query}`);
  });
  return () => {
    win.removeEventListener('popstate', apply);
    unsubscribe();
  };
}
