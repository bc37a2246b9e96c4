import type { Severity } from '../../utils/metricHelpers';

const ICONS: Record<Severity, string> = { info: 'ℹ', warning: '⚠', critical: '⛔' };

interface MetricWarningProps {
  message: string;
  severity: Severity;
}

/** A threshold crossed (spec 003 §6.2). Critical ones are announced to screen readers. */
export function MetricWarning({ message, severity }: MetricWarningProps) {
  return (
    <div className={`warning warning-${severity}`} role={severity === 'critical' ? 'alert' : 'status'}>
      <span aria-hidden="true">{ICONS[severity]}</span>
      <span>{message}</span>
    </div>
  );
}
