import { LIVE_TIME_RANGES, SERVER_ONLY_TIME_RANGES, type TimeRange } from '../../types/system';

interface TimeRangeSelectorProps {
  range: TimeRange;
  onChange: (range: TimeRange) => void;
  /** 7 d and 30 d exist only in server history. */
  serverHistory: boolean;
}

export function TimeRangeSelector({ range, onChange, serverHistory }: TimeRangeSelectorProps) {
  const ranges = serverHistory ? [...LIVE_TIME_RANGES, ...SERVER_ONLY_TIME_RANGES] : LIVE_TIME_RANGES;
  return (
    <div className="segmented" role="group" aria-label="Time range" data-testid="time-range">
      {ranges.map((option) => (
        <button key={option} type="button" aria-pressed={range === option} onClick={() => onChange(option)}>
          {option}
        </button>
      ))}
    </div>
  );
}
