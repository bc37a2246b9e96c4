import { useAlertsStore } from '../../stores/alertsStore';

/** Live alert events, newest last; each disappears by itself after a few seconds. */
export function Toasts() {
  const toasts = useAlertsStore((state) => state.toasts);
  const dismiss = useAlertsStore((state) => state.dismissToast);
  if (toasts.length === 0) return null;
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div
          key={toast.id}
          className={`toast toast-${toast.status === 'firing' ? toast.severity : 'resolved'}`}
          data-testid="alert-toast"
          data-status={toast.status}
        >
          <div className="toast-title">{toast.title}</div>
          <div className="toast-body">{toast.body}</div>
          <button type="button" className="btn btn-small" onClick={() => dismiss(toast.id)} aria-label="Dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
