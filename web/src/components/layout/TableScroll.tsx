import type { ReactNode } from 'react';

/**
 * A table that may scroll sideways on a narrow screen. The region is focusable and named, so keyboard
 * users can scroll it too and screen readers announce what it holds.
 */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
