import type { MouseEvent } from 'react';
import { API_BASE, currentToken, request } from '../../api/client';

interface ExportButtonsProps {
  href: (format: 'csv' | 'json') => string;
}

/** A plain link cannot send `Authorization`: signed in, the file is fetched with the token and saved. */
async function downloadWithToken(href: string, format: string): Promise<void> {
  const response = await request(href.slice(API_BASE.length));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `gpu-sentinel-history.${format}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads of the selected range from server history (spec 003 §12), every GPU and the host. */
export function ExportButtons({ href }: ExportButtonsProps) {
  const onClick = (format: 'csv' | 'json') => (event: MouseEvent<HTMLAnchorElement>) => {
    if (!currentToken()) return;
    event.preventDefault();
    void downloadWithToken(href(format), format).catch(() => undefined);
  };
  return (
    <span role="group" aria-label="Export history" style={{ display: 'inline-flex', gap: 6 }}>
      <a className="btn btn-small" href={href('csv')} download onClick={onClick('csv')} data-testid="export-csv">
        Export CSV
      </a>
      <a className="btn btn-small" href={href('json')} download onClick={onClick('json')} data-testid="export-json">
        Export JSON
      </a>
    </span>
  );
}
