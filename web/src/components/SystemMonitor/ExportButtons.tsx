interface ExportButtonsProps {
  href: (format: 'csv' | 'json') => string;
}

/** Downloads of the selected range from server history (spec 003 §12), every GPU and the host. */
export function ExportButtons({ href }: ExportButtonsProps) {
  return (
    <span role="group" aria-label="Export history" style={{ display: 'inline-flex', gap: 6 }}>
      <a className="btn btn-small" href={href('csv')} download data-testid="export-csv">
        Export CSV
      </a>
      <a className="btn btn-small" href={href('json')} download data-testid="export-json">
        Export JSON
      </a>
    </span>
  );
}
