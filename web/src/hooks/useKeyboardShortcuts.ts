/**
 * Single-key shortcuts for the everyday moves (spec 003 §12): pages, view, GPU, range, theme, and `?` for
 * their list. Keys typed into a field, or pressed with a modifier, are left alone.
 */
import { useEffect } from 'react';
import { navigate } from '../components/layout/router';
import { resolveGPU, useLiveData } from '../stores/liveData';
import { usePreferences } from '../stores/preferences';
import { LIVE_TIME_RANGES, SERVER_ONLY_TIME_RANGES } from '../types/system';

export interface Shortcut {
  keys: string;
  does: string;
}

const RANGES = [...LIVE_TIME_RANGES, ...SERVER_ONLY_TIME_RANGES];

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'd', does: 'Dashboard' },
  { keys: 'p', does: 'Processes' },
  { keys: 'u', does: 'Usage' },
  { keys: 'a', does: 'Alerts' },
  { keys: 'v', does: 'Switch between single and compare view' },
  { keys: 'j / k', does: 'Next / previous GPU' },
  { keys: '1 – 5', does: `Time range ${RANGES.join(', ')}` },
  { keys: 't', does: 'Light or dark theme' },
  { keys: '?', does: 'Show or hide this list' },
];

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName);
}

function stepGPU(step: number): void {
  const frame = useLiveData.getState().frame;
  // The GPU list can lag the first stream frame; the frame's own GPUs are always there.
  const ids = frame?.gpus.map((gpu) => gpu.gpu_id) ?? [];
  if (ids.length === 0) return;
  const preferences = usePreferences.getState();
  const index = ids.indexOf(resolveGPU(frame, preferences.selectedGPU));
  preferences.setSelectedGPU(ids[(index + step + ids.length) % ids.length] ?? ids[0] ?? 0);
}

/** What a key does; false when it is not a shortcut. */
export function runShortcut(key: string, toggleHelp: () => void): boolean {
  const preferences = usePreferences.getState();
  const rangeIndex = Number(key) - 1;
  if (key === '?') toggleHelp();
  else if (key === 'd') navigate('/');
  else if (key === 'p') navigate('/processes');
  else if (key === 'u') navigate('/usage');
  else if (key === 'a') navigate('/alerts');
  else if (key === 'v') preferences.setViewMode(preferences.viewMode === 'single' ? 'compare' : 'single');
  else if (key === 'j') stepGPU(1);
  else if (key === 'k') stepGPU(-1);
  else if (key === 't') preferences.setTheme(preferences.theme === 'dark' ? 'light' : 'dark');
  else if (Number.isInteger(rangeIndex) && rangeIndex >= 0 && rangeIndex < RANGES.length) {
    const range = RANGES[rangeIndex];
    if (range) preferences.setTimeRange(range);
  } else return false;
  return true;
}

export function useKeyboardShortcuts(enabled: boolean, toggleHelp: () => void): void {
  useEffect(() => {
    if (!enabled) return undefined;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      // A dialog open elsewhere (Settings) keeps its keys.
      if (document.querySelector('[role="dialog"][aria-modal="true"]:not([data-shortcuts])')) return;
      if (runShortcut(event.key, toggleHelp)) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled, toggleHelp]);
}
