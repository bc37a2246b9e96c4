import { ApiError } from '../../api/client';
import { errorMessage } from '../../utils/errors';

/** The server's own words for a refused change, with a hint when it is about signing in. */
export function describeActionError(error: unknown): string {
  const message = errorMessage(error);
  if (error instanceof ApiError && error.status === 401) return `${message}. Sign in as an admin to change alerting.`;
  if (error instanceof ApiError && error.status === 403) return `${message}. Ask an admin to do this.`;
  return message;
}

export function ActionError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert" data-testid="action-error">
      {error}
    </p>
  );
}
