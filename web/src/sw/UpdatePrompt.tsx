import { useAppUpdate } from './register';

/** Offers the new dashboard once a newer build's worker took over; the next load shows it anyway. */
export function UpdatePrompt() {
  const available = useAppUpdate((state) => state.available);
  if (!available) return null;
  return (
    <div className="update-prompt" role="status" data-testid="update-prompt">
      A new version of the dashboard is available.
      <button type="button" className="btn btn-small btn-primary" onClick={() => window.location.reload()}>
        Reload
      </button>
      <button type="button" className="btn btn-small" onClick={() => useAppUpdate.setState({ available: false })}>
        Later
      </button>
    </div>
  );
}
