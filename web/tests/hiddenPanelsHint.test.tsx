import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState, type ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PanelLayout } from '../src/components/SystemMonitor/PanelLayout';
import { usePreferences } from '../src/stores/preferences';
import { DEFAULT_LAYOUTS, layoutReducer, type SinglePanelId } from '../src/utils/panelLayout';

const PANELS: Partial<Record<SinglePanelId, ReactNode>> = {
  trends: <p>Trends panel</p>,
  utilization: <p>Utilization panel</p>,
  fan: <p>Fan panel</p>,
  health: <p>Health panel</p>,
};

/** The single view's layout with these panels hidden, as the editor leaves it. */
function hide(...ids: SinglePanelId[]): void {
  const layouts = ids.reduce(
    (current, id) => layoutReducer(current, { type: 'hide', view: 'single', id }),
    DEFAULT_LAYOUTS,
  );
  usePreferences.setState({ layouts });
}

/** The view as the System Monitor holds it: edit mode is the page's, opened by its header or the hint. */
function SingleLayout({ startEditing = false }: { startEditing?: boolean }) {
  const [editing, setEditing] = useState(startEditing);
  return (
    <PanelLayout
      view="single"
      panels={PANELS}
      editing={editing}
      onEdit={() => setEditing(true)}
      onDoneEditing={() => setEditing(false)}
      testId="single-view"
    />
  );
}

beforeEach(() => usePreferences.setState({ layouts: DEFAULT_LAYOUTS }));
afterEach(cleanup);

describe('hidden panels outside edit mode', () => {
  it('says nothing when every panel is shown', () => {
    render(<SingleLayout />);
    expect(screen.getByText('Utilization panel')).toBeTruthy();
    expect(screen.queryByTestId('hidden-panels-hint')).toBeNull();
  });

  it('says how many panels are hidden, with a button that opens the editor on the first to bring back', () => {
    hide('fan', 'health');
    render(<SingleLayout />);
    expect(screen.queryByText('Fan panel')).toBeNull();
    const hint = screen.getByTestId('hidden-panels-hint');
    expect(hint.textContent).toBe('2 panels hidden · Edit layout to show them');

    fireEvent.click(screen.getByRole('button', { name: 'Edit layout to show them' }));
    expect(screen.getByTestId('layout-toolbar')).toBeTruthy();
    const showFan = screen.getByRole('button', { name: /Show Fan speed/ });
    expect(document.activeElement).toBe(showFan);
    // While editing, the toolbar lists the hidden panels: the hint is gone.
    expect(screen.queryByTestId('hidden-panels-hint')).toBeNull();

    fireEvent.click(showFan);
    fireEvent.click(screen.getByTestId('done-editing'));
    expect(screen.getByText('Fan panel')).toBeTruthy();
    expect(screen.getByTestId('hidden-panels-hint').textContent).toBe('1 panel hidden · Edit layout to show them');
  });

  it('is not shown in edit mode, where the toolbar lists them', () => {
    hide('fan');
    render(<SingleLayout startEditing />);
    expect(screen.getByTestId('hidden-panels')).toBeTruthy();
    expect(screen.queryByTestId('hidden-panels-hint')).toBeNull();
  });
});
