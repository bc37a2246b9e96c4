import { livePhase, useConnection } from '../../stores/connection';
import { useLiveData } from '../../stores/liveData';
import { isValidMetric, levelOf } from '../../utils/metricHelpers';
import { useLevelBands } from '../../stores/metricCatalogue';

/** Beyond this many GPUs the navigation bar shows a summary instead of one chip each. */
const MAX_CHIPS = 4;

function formatPercent(value: number | null): string {
  return isValidMetric(value) ? `${value.toFixed(0)}%` : 'N/A';
}

function formatTemperature(value: number | null): string {
  return isValidMetric(value) ? `${value.toFixed(0)}°C` : 'N/A';
}

/**
 * Always visible in the navigation bar (spec 003 §2.2). It shows the page's own live frame and connection
 * state, so it never shows numbers the page calls stale.
 */
export function CompactGPUStatus() {
  const bands = useLevelBands();
  const gpus = useLiveData((state) => state.frame?.gpus);
  const phase = useConnection(livePhase);

  if (phase === 'failing' || phase === 'stopped') {
    return (
      <div className="compact-status" data-testid="compact-status" data-state="offline">
        <span className="compact-gpu">
          <span className="live-dot" data-state="error" aria-hidden="true" /> Not updating
        </span>
      </div>
    );
  }
  if (!gpus) return <div className="compact-status" data-testid="compact-status" data-state="connecting" />;
  if (gpus.length === 0) {
    return (
      <div className="compact-status" data-testid="compact-status" data-state="no-gpu">
        <span className="compact-gpu faint">No GPU</span>
      </div>
    );
  }

  if (gpus.length > MAX_CHIPS) {
    const utilizations = gpus.map((gpu) => gpu.utilization.gpu).filter(isValidMetric);
    const temperatures = gpus.map((gpu) => gpu.temperature).filter(isValidMetric);
    const average = utilizations.length ? utilizations.reduce((a, b) => a + b, 0) / utilizations.length : null;
    const hottest = temperatures.length ? Math.max(...temperatures) : null;
    const stuck = gpus.filter((gpu) => gpu.unresponsive || gpu.lost).length;
    return (
      <div className="compact-status" data-testid="compact-status" data-state="ok">
        <span className="compact-gpu" title="Average utilization and hottest GPU">
          {gpus.length} GPUs · <span className={`text-${levelOf(average, bands.gpuUtilization)}`}>{formatPercent(average)}</span> ·{' '}
          <span className={`text-${levelOf(hottest, bands.temperature)}`}>{formatTemperature(hottest)}</span>
          {stuck > 0 && (
            <span className="text-critical" data-testid="compact-unresponsive">
              {' '}
              · {stuck} not answering
            </span>
          )}
        </span>
      </div>
    );
  }

  return (
    <div className="compact-status" data-testid="compact-status" data-state="ok" aria-label="GPU status">
      {gpus.map((gpu) => (
        <span key={gpu.gpu_id} className="compact-gpu mono" data-testid="compact-gpu" title={gpu.gpu_name}>
          <span className="muted">GPU{gpu.gpu_id}</span>
          {gpu.lost ? (
            <span className="text-critical">lost</span>
          ) : gpu.unresponsive ? (
            <span className="text-critical" data-testid="compact-unresponsive">
              unresponsive
            </span>
          ) : (
            <>
              <span className={`text-${levelOf(gpu.utilization.gpu, bands.gpuUtilization)}`}>
                {formatPercent(gpu.utilization.gpu)}
              </span>
              <span className={`text-${levelOf(gpu.temperature, bands.temperature)}`}>{formatTemperature(gpu.temperature)}</span>
            </>
          )}
        </span>
      ))}
    </div>
  );
}
