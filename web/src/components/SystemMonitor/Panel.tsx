import type { ReactNode } from 'react';

interface PanelProps {
  title: ReactNode;
  testId?: string;
  className?: string;
  actions?: ReactNode;
  /** Heading level: 3 under a section's h2 (the dashboard), 2 directly under a page's h1. */
  level?: 2 | 3;
  children: ReactNode;
}

export function Panel({ title, testId, className, actions, level = 3, children }: PanelProps) {
  const headingId = testId ? `${testId}-title` : undefined;
  const Heading = level === 2 ? 'h2' : 'h3';
  return (
    <section className={`panel ${className ?? ''}`.trim()} data-testid={testId} aria-labelledby={headingId}>
      <Heading id={headingId} className="panel-heading">
        {title}
        {actions && <span style={{ marginLeft: 'auto' }}>{actions}</span>}
      </Heading>
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
