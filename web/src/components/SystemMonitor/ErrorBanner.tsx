import { livePhase, MAX_CONSECUTIVE_ERRORS, useConnection, type FailureCause } from '../../stores/connection';
import { PROBE_INTERVAL_MS } from '../../stream/liveSource';

export const CAUSE_TITLE: Record<FailureCause, string> = {
  unreachable: 'Server unreachable',
  server: 'Server error',
  gpu: 'GPU monitoring unavailable',
  'signed-out': 'Signed out',
};

/** One sentence per cause, with the server's own words where it gave any. */
function causeSentence(cause: FailureCause, detail: string | null): string {
  const said = detail ? ` (${detail.replace(/\.$/, '')})` : '';
  switch (cause) {
    case 'unreachable':
      return 'The GPU Sentinel server does not answer.';
    case 'server':
      return `The server answered with an error${said}.`;
    case 'gpu':
      return `The server cannot read the GPUs${said}.`;
    case 'signed-out':
      return 'Your session has ended: sign in again to see live data.';
  }
}

/** Spec 003 §6.4 / §8: why updates fail, whether they stopped, and a Retry that tries at once. */
export function ErrorBanner({ onRetry }: { onRetry: () => void }) {
  const phase = useConnection(livePhase);
  const cause = useConnection((state) => state.cause);
  const detail = useConnection((state) => state.detail);
  const failures = useConnection((state) => state.failures);
  const retrying = useConnection((state) => state.retrying);
  if ((phase !== 'failing' && phase !== 'stopped') || !cause) return null;
  const probe = `${PROBE_INTERVAL_MS / 1000} s`;
  const status =
    phase === 'stopped'
      ? `Updates stopped after ${MAX_CONSECUTIVE_ERRORS} failed attempts; checking again every ${probe}.`
      : failures > 1
        ? `${failures} failed attempts in a row; retrying.`
        : 'Retrying.';
  return (
    <div className={`banner banner-${cause}`} role="alert" data-testid="error-banner" data-error-type={cause}>
      <div>
        <div className="banner-title">{CAUSE_TITLE[cause]}</div>
        <div className="banner-message">
          {causeSentence(cause, detail)} <span data-testid="error-status">{status}</span>
        </div>
      </div>
      <button type="button" className="btn btn-primary" onClick={onRetry} disabled={retrying}>
        {retrying ? 'Retrying…' : 'Retry'}
      </button>
    </div>
  );
}
