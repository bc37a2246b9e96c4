import type { ErrorType } from '../../types/system';
import { ERROR_PRESENTATION } from '../../utils/errors';

interface ErrorBannerProps {
  type: ErrorType;
  message: string;
  isRetrying: boolean;
  stopped: boolean;
  failures: number;
  onRetry: () => void;
}

/** Spec 003 §6.4 / §8: one banner per error type, always with a Retry. */
export function ErrorBanner({ type, message, isRetrying, stopped, failures, onRetry }: ErrorBannerProps) {
  const { title, advice } = ERROR_PRESENTATION[type];
  return (
    <div className={`banner banner-${type}`} role="alert" data-testid="error-banner" data-error-type={type}>
      <div>
        <div className="banner-title">{title}</div>
        <div className="banner-message">
          {message}. {advice}{' '}
          {stopped
            ? `Updates stopped after ${failures} failed attempts.`
            : failures > 1
              ? `${failures} failed attempts in a row.`
              : ''}
        </div>
      </div>
      <button type="button" className="btn btn-primary" onClick={onRetry} disabled={isRetrying}>
        {isRetrying ? 'Retrying…' : 'Retry'}
      </button>
    </div>
  );
}
