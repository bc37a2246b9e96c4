import { useEffect, useRef, useState } from 'react';
import { UPDATE_INTERVALS, type UpdateInterval } from '../../types/system';

interface SettingsModalProps {
  interval: UpdateInterval;
  onSave: (interval: UpdateInterval) => void;
  onClose: () => void;
}

function intervalLabel(interval: UpdateInterval): string {
  return `${interval / 1000} s`;
}

/** Update interval (spec 003 §2.3). Escape or the backdrop closes it; focus stays inside while open. */
export function SettingsModal({ interval, onSave, onClose }: SettingsModalProps) {
  const [choice, setChoice] = useState<UpdateInterval>(interval);
  const dialogRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const previouslyFocused = document.activeElement as HTMLElement | null;
    dialogRef.current?.querySelector<HTMLInputElement>('input:checked')?.focus();
    return () => previouslyFocused?.focus();
  }, []);

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== 'Tab' || !dialogRef.current) return;
    const focusable = dialogRef.current.querySelectorAll<HTMLElement>('input:checked, button:not(:disabled)');
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first?.focus();
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(event) => event.target === event.currentTarget && onClose()}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="settings-title"
        ref={dialogRef}
        onKeyDown={onKeyDown}
        data-testid="settings-modal"
      >
        <h2 id="settings-title">Settings</h2>
        <p className="muted" style={{ margin: 0 }}>
          How often the dashboard asks for new metrics. Faster updates cost the server nothing extra: it samples
          once and serves every dashboard from that sample.
        </p>
        <fieldset style={{ border: 0, padding: 0, margin: '12px 0 0' }}>
          <legend className="metric-label">Update interval</legend>
          <div className="radio-list">
            {UPDATE_INTERVALS.map((option) => (
              <label key={option}>
                <input
                  type="radio"
                  name="update-interval"
                  value={option}
                  checked={choice === option}
                  onChange={() => setChoice(option)}
                />
                {intervalLabel(option)}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              onSave(choice);
              onClose();
            }}
          >
            Save
          </button>
        </div>
      </div>
    </div>
  );
}
