import { describe, expect, it } from 'vitest';
import { createPreferencesStore, STORAGE_KEY } from '../src/stores/preferences';
import {
  DEFAULT_LAYOUTS,
  describeChange,
  layoutReducer,
  normalizeLayouts,
  normalizeView,
  visiblePanels,
  type DashboardLayouts,
  type LayoutAction,
} from '../src/utils/panelLayout';
import { memoryStorage } from './fixtures';

function run(...actions: LayoutAction[]): DashboardLayouts {
  return actions.reduce(layoutReducer, DEFAULT_LAYOUTS);
}

describe('merging a saved layout', () => {
  it('drops panels this version does not have, and repeats', () => {
    const saved = { order: ['health', 'coffee-maker', 'trends', 'health'], hidden: ['coffee-maker', 'fan', 42] };
    const merged = normalizeView(DEFAULT_LAYOUTS.single, saved);
    expect(merged.order).not.toContain('coffee-maker');
    expect(merged.order.filter((id) => id === 'health')).toHaveLength(1);
    expect(merged.hidden).toEqual(['fan']);
  });

  it('puts a panel the saved layout lacks where the default has it, after its default predecessor', () => {
    // Saved by a version without "fan" and "storage": the user had moved health to the top.
    const saved = {
      order: ['health', 'trends', 'utilization', 'temperature', 'power', 'hardware', 'system-resources', 'processes', 'system-info'],
      hidden: ['power'],
    };
    const merged = normalizeView(DEFAULT_LAYOUTS.single, saved);
    expect(merged.order).toEqual([
      'health',
      'trends',
      'utilization',
      'temperature',
      'power',
      'fan',
      'hardware',
      'system-resources',
      'storage',
      'processes',
      'system-info',
    ]);
    expect(merged.hidden).toEqual(['power']); // the user's choice stays; the new panels are shown
  });

  it('gives a new panel its default visibility, and puts one without a predecessor first', () => {
    const merged = normalizeView(DEFAULT_LAYOUTS.compare, { order: ['storage', 'gpu-cards'], hidden: [] });
    expect(merged.order).toEqual(['trends', 'storage', 'gpu-cards', 'system-resources']);
    expect(merged.hidden).toEqual(['system-resources']); // hidden by default, so hidden when new
    expect(visiblePanels(merged)).toEqual(['trends', 'storage', 'gpu-cards']);
  });

  it('makes anything that is not a layout the default', () => {
    for (const junk of [null, 'single', 7, { single: 'x', compare: [] }]) {
      expect(normalizeLayouts(junk)).toEqual(DEFAULT_LAYOUTS);
    }
  });

  it('makes a layout stored in this browser by another version whole when the page loads', () => {
    const storage = memoryStorage();
    const saved = { order: ['system-info', 'gauges-v9', 'processes'], hidden: ['gauges-v9', 'fan'] };
    storage.setItem(STORAGE_KEY, JSON.stringify({ state: { theme: 'light', layouts: { single: saved } }, version: 1 }));
    const { layouts, theme } = createPreferencesStore(storage).getState();
    expect(theme).toBe('light');
    expect(layouts.single.order).toHaveLength(DEFAULT_LAYOUTS.single.order.length);
    expect(layouts.single.order.slice(-2)).toEqual(['system-info', 'processes']);
    expect(layouts.single.hidden).toEqual(['fan']);
    expect(layouts.compare).toEqual(DEFAULT_LAYOUTS.compare);
  });
});

describe('changing a layout', () => {
  it('drags a panel into another one\'s place, downwards and upwards', () => {
    const down = run({ type: 'move', view: 'single', id: 'utilization', over: 'fan' });
    expect(down.single.order.slice(0, 5)).toEqual(['trends', 'temperature', 'power', 'fan', 'utilization']);
    const up = run({ type: 'move', view: 'single', id: 'system-info', over: 'trends' });
    expect(up.single.order.slice(0, 2)).toEqual(['system-info', 'trends']);
    expect(up.compare).toBe(DEFAULT_LAYOUTS.compare); // the other view is untouched
  });

  it('steps past the next shown panel, skipping hidden ones', () => {
    const layouts = run(
      { type: 'hide', view: 'single', id: 'temperature' },
      { type: 'step', view: 'single', id: 'utilization', by: 1 },
    );
    expect(visiblePanels(layouts.single).slice(0, 3)).toEqual(['trends', 'power', 'utilization']);
    expect(describeChange(layouts, { type: 'step', view: 'single', id: 'utilization', by: 1 })).toBe(
      'Utilization moved to position 3 of 10.',
    );
  });

  it('changes nothing when the panel is already at the end', () => {
    expect(run({ type: 'step', view: 'single', id: 'trends', by: -1 })).toBe(DEFAULT_LAYOUTS);
    expect(run({ type: 'step', view: 'compare', id: 'gpu-cards', by: 1 })).toBe(DEFAULT_LAYOUTS); // last shown
  });

  it('hides a panel and brings it back where it was', () => {
    const hidden = run({ type: 'hide', view: 'single', id: 'health' });
    expect(hidden.single.hidden).toEqual(['health']);
    expect(visiblePanels(hidden.single)).not.toContain('health');
    const shown = layoutReducer(hidden, { type: 'show', view: 'single', id: 'health' });
    expect(shown.single).toEqual(DEFAULT_LAYOUTS.single);
    expect(describeChange(shown, { type: 'show', view: 'single', id: 'health' })).toBe('Health shown, at position 7 of 11.');
  });

  it('keeps a layout per view, and a reset returns only that view to the default', () => {
    const layouts = run(
      { type: 'show', view: 'compare', id: 'storage' },
      { type: 'move', view: 'compare', id: 'storage', over: 'trends' },
      { type: 'hide', view: 'single', id: 'fan' },
    );
    expect(visiblePanels(layouts.compare)).toEqual(['storage', 'trends', 'gpu-cards']);
    const reset = layoutReducer(layouts, { type: 'reset', view: 'compare' });
    expect(reset.compare).toEqual(DEFAULT_LAYOUTS.compare);
    expect(reset.single.hidden).toEqual(['fan']);
  });

  it('ignores a panel that does not belong to the view', () => {
    expect(run({ type: 'hide', view: 'single', id: 'gpu-cards' })).toBe(DEFAULT_LAYOUTS);
  });
});
