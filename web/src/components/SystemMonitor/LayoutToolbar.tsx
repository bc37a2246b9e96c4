import { useLayoutSync, type LayoutSyncState } from '../../stores/layoutSync';
import { PANEL_TITLES, type LayoutView, type PanelId } from '../../utils/panelLayout';

interface LayoutToolbarProps {
  view: LayoutView;
  hidden: PanelId[];
  onShow: (id: PanelId) => void;
  onReset: () => void;
  onDone: () => void;
}

const SYNC_TEXT: Record<LayoutSyncState, string> = {
  browser: 'Kept in this browser.',
  loading: 'Loading your saved layout…',
  saving: 'Saving to your account…',
  saved: 'Saved to your account.',
  error: '',
};

/** While editing: the hidden panels (to bring back), reset, done, and where the layout is kept. */
export function LayoutToolbar({ view, hidden, onShow, onReset, onDone }: LayoutToolbarProps) {
  const sync = useLayoutSync();
  return (
    <section className="panel layout-toolbar" aria-labelledby="layout-toolbar-title" data-testid="layout-toolbar">
      <div className="section-header">
        <h2 id="layout-toolbar-title">Edit the {view === 'compare' ? 'compare' : 'single GPU'} view's layout</h2>
        <span className="layout-sync faint" data-testid="layout-sync" data-state={sync.state}>
          {sync.state === 'error' ? sync.message : SYNC_TEXT[sync.state]}
        </span>
        <span className="layout-toolbar-actions">
          <button type="button" className="btn btn-small" onClick={onReset} data-testid="reset-layout">
            Reset layout
          </button>
          <button type="button" className="btn btn-small btn-primary" onClick={onDone} data-testid="done-editing">
            Done
          </button>
        </span>
      </div>
      <p className="muted layout-help">
        Drag a panel by its handle, or focus the handle, press Space, move it with the arrow keys and press Space
        again. The arrow buttons move a panel one place.
      </p>
      <div className="hidden-panels">
        <h3 id="hidden-panels-title">Hidden panels</h3>
        {hidden.length === 0 ? (
          <p className="faint" data-testid="no-hidden-panels">
            None: every panel is shown.
          </p>
        ) : (
          <ul aria-labelledby="hidden-panels-title" data-testid="hidden-panels">
            {hidden.map((id) => (
              <li key={id}>
                <button type="button" className="btn btn-small" onClick={() => onShow(id)} data-testid={`show-panel-${id}`}>
                  <span aria-hidden="true">+</span> Show {PANEL_TITLES[id]}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
