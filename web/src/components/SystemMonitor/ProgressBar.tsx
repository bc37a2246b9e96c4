import { clamp, isValidMetric, type Level } from '../../utils/metricHelpers';

interface ProgressBarProps {
  percent: number | null | undefined;
  level: Level;
  label: string;
}

/** The fill is scaled, not resized: a transform animates on the compositor without a layout per frame. */
export function ProgressBar({ percent, level, label }: ProgressBarProps) {
  const width = isValidMetric(percent) ? clamp(percent, 0, 100) : 0;
  return (
    <div
      className="bar"
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={isValidMetric(percent) ? Math.round(percent) : undefined}
    >
      <div className={`bar-fill level-${level}`} style={{ transform: `scaleX(${width / 100})` }} />
    </div>
  );
}
