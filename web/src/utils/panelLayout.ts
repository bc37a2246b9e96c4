/**
 * The System Monitor's panel layouts: which panels each view shows, in what order. Pure functions, so the
 * browser copy, the server copy and every change go through the same rules: unknown panels (saved by an
 * older or newer version) are dropped, and panels a saved layout does not know take their default place.
 */
import type { components } from '../types/api.gen';

type Schemas = components['schemas'];
/** The panel names are the server's (its OpenAPI schema), so both sides agree on them. */
export type SinglePanelId = NonNullable<Schemas['SingleViewLayout']['order']>[number];
export type ComparePanelId = NonNullable<Schemas['CompareViewLayout']['order']>[number];
export type LayoutView = 'single' | 'compare';
export type PanelId = SinglePanelId | ComparePanelId;

export interface ViewLayout<P extends PanelId = PanelId> {
  /** Every panel of the view, top to bottom, hidden ones included (so a restored panel comes back in place). */
  order: P[];
  hidden: P[];
}

export interface DashboardLayouts {
  single: ViewLayout<SinglePanelId>;
  compare: ViewLayout<ComparePanelId>;
}

const SINGLE_ORDER = [
  'trends',
  'utilization',
  'temperature',
  'power',
  'fan',
  'hardware',
  'health',
  'system-resources',
  'storage',
  'processes',
  'system-info',
] as const satisfies readonly SinglePanelId[];
const COMPARE_ORDER = ['trends', 'gpu-cards', 'system-resources', 'storage'] as const satisfies readonly ComparePanelId[];

// A panel the server knows but the default order leaves out fails the type check here.
type Exhaustive<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const singleComplete: Exhaustive<SinglePanelId, (typeof SINGLE_ORDER)[number]> = true;
const compareComplete: Exhaustive<ComparePanelId, (typeof COMPARE_ORDER)[number]> = true;
void singleComplete;
void compareComplete;

export const DEFAULT_LAYOUTS: DashboardLayouts = {
  single: { order: [...SINGLE_ORDER], hidden: [] },
  // The host panels are there for whoever wants them beside the cards.
  compare: { order: [...COMPARE_ORDER], hidden: ['system-resources', 'storage'] },
};

export const PANEL_TITLES: Record<PanelId, string> = {
  trends: 'Historical trends',
  utilization: 'Utilization',
  temperature: 'Temperature',
  power: 'Power',
  fan: 'Fan speed',
  hardware: 'Hardware metrics',
  health: 'Health',
  'system-resources': 'System resources',
  storage: 'Storage',
  processes: 'GPU processes',
  'system-info': 'System information',
  'gpu-cards': 'All GPUs',
};

/** Columns a panel takes in the four-column grid (fewer columns on narrow screens). */
export const PANEL_SPANS: Record<PanelId, 1 | 2 | 4> = {
  trends: 4,
  utilization: 1,
  temperature: 1,
  power: 1,
  fan: 1,
  hardware: 2,
  health: 2,
  'system-resources': 2,
  storage: 2,
  processes: 4,
  'system-info': 4,
  'gpu-cards': 4,
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * A saved layout made whole: panels this version does not have are dropped, repeats removed, and every
 * panel it lacks is put where the default has it (after the panel the default puts before it).
 */
export function normalizeView<P extends PanelId>(defaults: ViewLayout<P>, saved: unknown): ViewLayout<P> {
  const known = new Set<string>(defaults.order);
  const record = typeof saved === 'object' && saved !== null ? (saved as Record<string, unknown>) : {};
  const order = [...new Set(strings(record.order).filter((id) => known.has(id)))] as P[];
  const hidden = new Set(strings(record.hidden).filter((id) => known.has(id)) as P[]);
  defaults.order.forEach((id, index) => {
    if (order.includes(id)) return;
    const before = defaults.order.slice(0, index).reverse().find((other) => order.includes(other));
    order.splice(before === undefined ? 0 : order.indexOf(before) + 1, 0, id);
    // A panel the saved layout never mentions is new to it, and shown or not as by default.
    if (!hidden.has(id) && defaults.hidden.includes(id)) hidden.add(id);
  });
  return { order, hidden: order.filter((id) => hidden.has(id)) };
}

export function normalizeLayouts(saved: unknown): DashboardLayouts {
  const record = typeof saved === 'object' && saved !== null ? (saved as Record<string, unknown>) : {};
  return {
    single: normalizeView(DEFAULT_LAYOUTS.single, record.single),
    compare: normalizeView(DEFAULT_LAYOUTS.compare, record.compare),
  };
}

export function visiblePanels<P extends PanelId>(layout: ViewLayout<P>): P[] {
  return layout.order.filter((id) => !layout.hidden.includes(id));
}

export type LayoutAction =
  /** Drag and drop: `id` takes the place of `over` among the shown panels. */
  | { type: 'move'; view: LayoutView; id: PanelId; over: PanelId }
  /** Move up (-1) or down (+1) past the next shown panel. */
  | { type: 'step'; view: LayoutView; id: PanelId; by: -1 | 1 }
  | { type: 'hide'; view: LayoutView; id: PanelId }
  | { type: 'show'; view: LayoutView; id: PanelId }
  | { type: 'reset'; view: LayoutView };

type WithoutView<A> = A extends unknown ? Omit<A, 'view'> : never;
/** An action on the view at hand. */
export type PanelAction = WithoutView<LayoutAction>;

function moved<P extends PanelId>(layout: ViewLayout<P>, id: P, over: P): ViewLayout<P> {
  const from = layout.order.indexOf(id);
  const to = layout.order.indexOf(over);
  if (from < 0 || to < 0 || from === to) return layout;
  const order = layout.order.filter((other) => other !== id);
  // Moving down lands after `over`, moving up before it, as a sortable list shows it while dragging.
  order.splice(order.indexOf(over) + (from < to ? 1 : 0), 0, id);
  return { ...layout, order };
}

function changeView<P extends PanelId>(layout: ViewLayout<P>, defaults: ViewLayout<P>, action: LayoutAction): ViewLayout<P> {
  if (action.type === 'reset') return { order: [...defaults.order], hidden: [...defaults.hidden] };
  const id = action.id as P;
  if (!layout.order.includes(id)) return layout;
  switch (action.type) {
    case 'move':
      return moved(layout, id, action.over as P);
    case 'step': {
      const shown = visiblePanels(layout);
      const neighbour = shown[shown.indexOf(id) + action.by];
      return neighbour === undefined || layout.hidden.includes(id) ? layout : moved(layout, id, neighbour);
    }
    case 'hide':
      return layout.hidden.includes(id) ? layout : { ...layout, hidden: layout.order.filter((o) => o === id || layout.hidden.includes(o)) };
    case 'show':
      return { ...layout, hidden: layout.hidden.filter((other) => other !== id) };
  }
}

/** The one way a layout changes; an action that changes nothing returns the same object. */
export function layoutReducer(layouts: DashboardLayouts, action: LayoutAction): DashboardLayouts {
  if (action.view === 'single') {
    const single = changeView(layouts.single, DEFAULT_LAYOUTS.single, action);
    return single === layouts.single ? layouts : { ...layouts, single };
  }
  const compare = changeView(layouts.compare, DEFAULT_LAYOUTS.compare, action);
  return compare === layouts.compare ? layouts : { ...layouts, compare };
}

/** What a screen reader hears after a change, in the words of the panel's position among those shown. */
export function describeChange(layouts: DashboardLayouts, action: LayoutAction): string {
  if (action.type === 'reset') return 'Layout reset to the default.';
  const title = PANEL_TITLES[action.id];
  if (action.type === 'hide') return `${title} hidden. Restore it from the hidden panels list.`;
  const shown: PanelId[] = visiblePanels<PanelId>(layouts[action.view]);
  const position = `position ${shown.indexOf(action.id) + 1} of ${shown.length}`;
  return action.type === 'show' ? `${title} shown, at ${position}.` : `${title} moved to ${position}.`;
}
