import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { isAdmin, useSession } from '../../auth/session';
import { useProcessActions } from '../../stores/processActions';
import type { GPUProcess, ProcessAction } from '../../types/system';
import { errorMessage } from '../../utils/errors';

const VERB: Record<ProcessAction, string> = { terminate: 'Terminate', pause: 'Pause', resume: 'Resume' };

/** Whether this viewer may act on processes: an admin signed in, on a server that allows actions. */
export function useCanActOnProcesses(): boolean {
  const admin = isAdmin(useSession((state) => state.identity));
  const enabled = useProcessActions((state) => state.enabled);
  useEffect(() => {
    if (admin) void useProcessActions.getState().refresh();
  }, [admin]);
  return admin && enabled === true;
}

function consequence(action: ProcessAction, graceSeconds: number): string {
  if (action === 'terminate')
    return `It is sent SIGTERM, and SIGKILL if it is still running ${graceSeconds} s later. Unsaved work in it is lost.`;
  if (action === 'pause') return 'It is sent SIGSTOP: it stops running but keeps its GPU memory until it is resumed.';
  return 'It is sent SIGCONT and runs again.';
}

/** Asks before anything is signalled, naming the process, its owner and its GPU. */
function ConfirmDialog({
  process,
  action,
  onDone,
}: {
  process: GPUProcess;
  action: ProcessAction;
  onDone: () => void;
}) {
  const graceSeconds = useProcessActions((state) => state.graceSeconds);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const previouslyFocused = document.activeElement as HTMLElement | null;
    cancelRef.current?.focus();
    return () => previouslyFocused?.focus();
  }, []);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await useProcessActions.getState().perform(process, action);
      onDone();
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };

  const titleId = `process-action-title-${process.pid}`;
  // In the page's body, not the table cell: the dialog must not inherit the cell's layout.
  return createPortal(
    <div className="modal-backdrop" onMouseDown={(event) => event.target === event.currentTarget && !busy && onDone()}>
      <div
        className="modal"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={`${titleId}-what`}
        data-testid="process-action-dialog"
        onKeyDown={(event) => {
          if (event.key === 'Escape' && !busy) onDone();
        }}
      >
        <h2 id={titleId}>
          {VERB[action]} {process.process_name} (PID {process.pid})?
        </h2>
        <dl className="process-facts" id={`${titleId}-what`}>
          <div>
            <dt>User</dt>
            <dd data-testid="confirm-user">{process.user ?? 'unknown'}</dd>
          </div>
          <div>
            <dt>GPU</dt>
            <dd data-testid="confirm-gpu">{process.gpu_id ?? 'unknown'}</dd>
          </div>
          <div>
            <dt>Memory</dt>
            <dd>{process.gpu_memory_mb === null ? 'N/A' : `${Math.round(process.gpu_memory_mb)} MiB`}</dd>
          </div>
        </dl>
        <p className="muted">{consequence(action, graceSeconds)}</p>
        {error && (
          <p className="form-error" role="alert" data-testid="process-action-error">
            {error}
          </p>
        )}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onDone} disabled={busy} ref={cancelRef}>
            Cancel
          </button>
          <button
            type="button"
            className={`btn ${action === 'terminate' ? 'btn-danger' : 'btn-primary'}`}
            onClick={() => void confirm()}
            disabled={busy}
            data-testid="confirm-process-action"
          >
            {busy ? `${VERB[action]}…` : VERB[action]}
          </button>
        </div>
      </div>
    </div>,
    document.body,
  );
}

/** What the last action did, in a sentence, announced politely; the row it came from may be gone. */
export function ProcessActionResult() {
  const result = useProcessActions((state) => state.lastResult);
  return (
    <p className="muted process-action-result" role="status" data-testid="process-action-result">
      {result ?? ''}
    </p>
  );
}

/** Pause or resume (by the process's state) and terminate, each behind a confirmation. */
export function ProcessActionButtons({ process }: { process: GPUProcess }) {
  const [pending, setPending] = useState<ProcessAction | null>(null);
  const paused = process.status === 'stopped';
  const label = `${process.process_name} (PID ${process.pid})`;
  return (
    <span className="process-actions">
      <button
        type="button"
        className="btn btn-small"
        onClick={() => setPending(paused ? 'resume' : 'pause')}
        aria-label={`${paused ? 'Resume' : 'Pause'} ${label}`}
        data-testid={paused ? 'resume-process' : 'pause-process'}
      >
        {paused ? 'Resume' : 'Pause'}
      </button>
      <button
        type="button"
        className="btn btn-small btn-danger"
        onClick={() => setPending('terminate')}
        aria-label={`Terminate ${label}`}
        data-testid="terminate-process"
      >
        Terminate
      </button>
      {pending && (
        <ConfirmDialog
          process={process}
          action={pending}
          onDone={() => setPending(null)}
        />
      )}
    </span>
  );
}
