import type { ViewMode } from '../../types/system';

interface ViewModeToggleProps {
  mode: ViewMode;
  onChange: (mode: ViewMode) => void;
  disabled?: boolean;
}

const MODES: { mode: ViewMode; label: string }[] = [
  { mode: 'single', label: 'Single' },
  { mode: 'compare', label: 'Compare' },
];

export function ViewModeToggle({ mode, onChange, disabled }: ViewModeToggleProps) {
  return (
    <div className="segmented" role="group" aria-label="View mode" data-testid="view-mode-toggle">
      {MODES.map((option) => (
        <button
          key={option.mode}
          type="button"
          aria-pressed={mode === option.mode}
          disabled={disabled}
          onClick={() => onChange(option.mode)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
