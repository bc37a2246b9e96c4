import type { ReactNode } from 'react';

interface PanelProps {
  title: ReactNode;
  testId?: string;
  className?: string;
  actions?: ReactNode;
  children: ReactNode;
}

export function Panel({ title, testId, className, actions, children }: PanelProps) {
  const headingId = testId ? `${testId}-title` : undefined;
  return (
    <section className={`panel ${className ?? ''}`.trim()} data-testid={testId} aria-labelledby={headingId}>
      <h3 id={headingId}>
        {title}
        {actions && <span style={{ marginLeft: 'auto' }}>{actions}</span>}
      </h3>
      {children}
    </section>
  );
}

interface MetricRowProps {
  label: ReactNode;
  children: ReactNode;
  testId?: string;
}

export function MetricRow({ label, children, testId }: MetricRowProps) {
  return (
    <div className="metric-row" data-testid={testId}>
      <span className="metric-label">{label}</span>
      <span>{children}</span>
    </div>
  );
}
