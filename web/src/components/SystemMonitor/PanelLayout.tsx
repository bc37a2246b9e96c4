import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
  type UniqueIdentifier,
} from '@dnd-kit/core';
import { rectSortingStrategy, SortableContext, sortableKeyboardCoordinates, useSortable } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { usePreferences } from '../../stores/preferences';
import {
  describeChange,
  layoutReducer,
  PANEL_SPANS,
  PANEL_TITLES,
  visiblePanels,
  type LayoutAction,
  type PanelAction,
  type LayoutView,
  type PanelId,
} from '../../utils/panelLayout';
import { LayoutToolbar } from './LayoutToolbar';

interface PanelLayoutProps<P extends PanelId> {
  view: LayoutView;
  /** The panels that have something to show now; the others keep their place in the layout. */
  panels: Partial<Record<P, ReactNode>>;
  editing: boolean;
  onEdit: () => void;
  onDoneEditing: () => void;
  testId: string;
  /** Above the panels, never moved (the view's heading). */
  header?: ReactNode;
}

const INSTRUCTIONS =
  'To move a panel with the keyboard, press Space on its handle, use the arrow keys, then press Space to drop it ' +
  'or Escape to cancel. The Move up and Move down buttons move it one place.';

function title(id: UniqueIdentifier): string {
  return PANEL_TITLES[id as PanelId] ?? String(id);
}

const ANNOUNCEMENTS: Announcements = {
  onDragStart: ({ active }) => `Picked up ${title(active.id)}.`,
  onDragOver: ({ active, over }) =>
    over ? `${title(active.id)} is over ${title(over.id)}.` : `${title(active.id)} is not over a panel.`,
  onDragEnd: ({ active, over }) =>
    over ? `${title(active.id)} dropped in place of ${title(over.id)}.` : `${title(active.id)} dropped.`,
  onDragCancel: ({ active }) => `Moving ${title(active.id)} was cancelled.`,
};

interface SlotProps {
  id: PanelId;
  editing: boolean;
  onAction: (action: PanelAction) => void;
  children: ReactNode;
}

/** One panel's place in the grid; while editing, a bar with its handle and buttons sits above it. */
function LayoutSlot({ id, editing, onAction, children }: SlotProps) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id,
    disabled: !editing,
  });
  const name = PANEL_TITLES[id];
  return (
    <div
      ref={setNodeRef}
      className="layout-slot"
      data-span={PANEL_SPANS[id]}
      data-panel={id}
      data-editing={editing || undefined}
      data-dragging={isDragging || undefined}
      data-testid={`layout-slot-${id}`}
      style={editing ? { transform: CSS.Translate.toString(transform), transition } : undefined}
    >
      {editing && (
        <div className="layout-slot-bar" role="group" aria-label={`${name} panel`}>
          <button
            type="button"
            ref={setActivatorNodeRef}
            className="btn btn-small drag-handle"
            data-testid={`drag-${id}`}
            {...attributes}
            {...listeners}
            aria-label={`Drag ${name}`}
          >
            <span aria-hidden="true">⠿</span> {name}
          </button>
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Move ${name} up`}
            data-testid={`move-up-${id}`}
            onClick={() => onAction({ type: 'step', id, by: -1 })}
          >
            <span aria-hidden="true">↑</span>
          </button>
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Move ${name} down`}
            data-testid={`move-down-${id}`}
            onClick={() => onAction({ type: 'step', id, by: 1 })}
          >
            <span aria-hidden="true">↓</span>
          </button>
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Hide ${name}`}
            data-testid={`hide-${id}`}
            onClick={() => onAction({ type: 'hide', id })}
          >
            Hide
          </button>
        </div>
      )}
      {children}
    </div>
  );
}

interface HiddenPanelsHintProps {
  count: number;
  onEdit: () => void;
}

/** Outside edit mode, the only sign that panels are hidden, and the way to bring them back. */
function HiddenPanelsHint({ count, onEdit }: HiddenPanelsHintProps) {
  return (
    <p className="hidden-panels-hint faint" data-testid="hidden-panels-hint">
      {count === 1 ? '1 panel hidden' : `${count} panels hidden`}
      <span aria-hidden="true"> · </span>
      <button type="button" className="btn btn-small" onClick={onEdit} data-testid="show-hidden-panels">
        Edit layout to show them
      </button>
    </p>
  );
}

/**
 * A view's panels in the user's order, in one grid. In edit mode each can be dragged (pointer or
 * keyboard, through dnd-kit), moved a place with buttons, hidden and restored; every change is announced.
 */
export function PanelLayout<P extends PanelId>({
  view,
  panels,
  editing,
  onEdit,
  onDoneEditing,
  testId,
  header,
}: PanelLayoutProps<P>) {
  const layout = usePreferences((state) => state.layouts[view]);
  const [announcement, setAnnouncement] = useState('');
  const [focusTarget, setFocusTarget] = useState<string | null>(null);
  const shown = useMemo(
    () => (visiblePanels<PanelId>(layout) as P[]).filter((id) => panels[id] !== undefined),
    [layout, panels],
  );
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const apply = useCallback(
    (change: PanelAction) => {
      const action = { ...change, view } as LayoutAction;
      const { layouts, changeLayout } = usePreferences.getState();
      const next = layoutReducer(layouts, action);
      if (next === layouts) {
        if (action.type === 'step') {
          setAnnouncement(`${PANEL_TITLES[action.id]} is already ${action.by < 0 ? 'first' : 'last'}.`);
        }
        return;
      }
      changeLayout(action);
      setAnnouncement(describeChange(next, action));
      if (action.type === 'hide') setFocusTarget(`show-panel-${action.id}`);
      if (action.type === 'show') setFocusTarget(`drag-${action.id}`);
    },
    [view],
  );

  // A hidden panel's buttons are gone: focus goes to where it can be brought back, and back to it.
  useEffect(() => {
    if (focusTarget === null) return;
    document.querySelector<HTMLElement>(`[data-testid="${focusTarget}"]`)?.focus();
    setFocusTarget(null);
  }, [focusTarget]);

  // The editor opens at the top of the view: focus goes to the first panel it can bring back.
  const editToShow = useCallback(() => {
    onEdit();
    if (layout.hidden[0]) setFocusTarget(`show-panel-${layout.hidden[0]}`);
  }, [onEdit, layout.hidden]);

  const dropped = useCallback(
    ({ active, over }: DragEndEvent) => {
      if (over && active.id !== over.id) apply({ type: 'move', id: active.id as PanelId, over: over.id as PanelId });
    },
    [apply],
  );

  return (
    <div data-testid={testId} data-editing={editing || undefined}>
      {header}
      {editing && (
        <LayoutToolbar
          view={view}
          hidden={layout.hidden}
          onShow={(id) => apply({ type: 'show', id })}
          onReset={() => apply({ type: 'reset' })}
          onDone={onDoneEditing}
        />
      )}
      <p className="sr-only" role="status" aria-live="polite" data-testid="layout-announcement">
        {announcement}
      </p>
      <DndContext
        sensors={sensors}
        collisionDetection={closestCenter}
        onDragEnd={dropped}
        accessibility={{ announcements: ANNOUNCEMENTS, screenReaderInstructions: { draggable: INSTRUCTIONS } }}
      >
        <SortableContext items={shown} strategy={rectSortingStrategy} disabled={!editing}>
          <div className="panel-layout" data-testid={`${view}-panels`}>
            {shown.map((id) => (
              <LayoutSlot key={id} id={id} editing={editing} onAction={apply}>
                {panels[id]}
              </LayoutSlot>
            ))}
          </div>
        </SortableContext>
      </DndContext>
      {!editing && layout.hidden.length > 0 && <HiddenPanelsHint count={layout.hidden.length} onEdit={editToShow} />}
    </div>
  );
}
