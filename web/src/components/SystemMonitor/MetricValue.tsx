import { formatMetricValue, getDefaultUnit, isValidMetric, type MetricFormat } from '../../utils/metricHelpers';

interface MetricValueProps {
  value: number | null | undefined;
  format: MetricFormat;
  decimals?: number;
  unit?: string;
  className?: string;
}

/** Spec 003 §6.1: a metric, or "N/A" when the hardware could not report it (null, undefined, NaN). */
export function MetricValue({ value, format, decimals = 1, unit, className }: MetricValueProps) {
  if (!isValidMetric(value)) {
    return <span className={`na ${className ?? ''}`.trim()}>N/A</span>;
  }
  const displayUnit = unit ?? getDefaultUnit(format);
  return (
    <span className={`mono ${className ?? ''}`.trim()}>
      {formatMetricValue(value, format, decimals)}
      {displayUnit && <span className="unit">{displayUnit}</span>}
    </span>
  );
}
