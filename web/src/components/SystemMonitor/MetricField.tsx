import { displayUnit, readField, useMetricEntry, type MetricEntry, type MetricScope } from '../../stores/metricCatalogue';
import { isValidMetric } from '../../utils/metricHelpers';
import { MetricRow } from './Panel';

const DECIMALS: Partial<Record<MetricEntry['format'], number>> = {
  percent: 1,
  celsius: 0,
  watts: 0,
  mhz: 0,
  count: 0,
  bytes: 1,
  bytes_per_s: 1,
  seconds: 1,
};

/** A value as the catalogue says to show it: its unit, and N/A where the hardware reports none. */
export function FieldValue({ entry, value }: { entry: MetricEntry | undefined; value: unknown }) {
  if (entry?.format === 'flag') {
    if (typeof value !== 'boolean') return <span className="na">N/A</span>;
    return value ? <span className="badge badge-warn">yes</span> : <span className="muted">no</span>;
  }
  if (!isValidMetric(value)) return <span className="na">N/A</span>;
  const decimals = entry ? (DECIMALS[entry.format] ?? 2) : 2;
  const text = Number.isInteger(value) && decimals <= 1 && entry?.format !== 'percent' ? value.toFixed(0) : value.toFixed(decimals);
  const unit = entry ? displayUnit(entry) : '';
  return (
    <span className="mono">
      {text}
      {unit && <span className="unit">{unit}</span>}
    </span>
  );
}

interface MetricFieldProps {
  /** Dotted path of the reading in the live object (`pcie.replay_count`), as the catalogue lists it. */
  field: string;
  source: unknown;
  scope?: MetricScope;
  testId?: string;
}

/** One catalogue reading as a labelled row: label, unit and format come from the server's registry. */
export function MetricField({ field, source, scope = 'gpu', testId }: MetricFieldProps) {
  const entry = useMetricEntry(scope, field);
  return (
    <MetricRow label={<span title={entry?.help}>{entry?.label ?? field}</span>} testId={testId ?? `metric-${field}`}>
      <FieldValue entry={entry} value={readField(source, field)} />
    </MetricRow>
  );
}
