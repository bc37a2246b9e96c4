import { useEffect } from 'react';
import { useSystemMonitorStore } from '../../stores/systemMonitorStore';
import { getTemperatureLevel, getUtilizationLevel, isValidMetric } from '../../utils/metricHelpers';

/** Beyond this many GPUs the navigation bar shows a summary instead of one chip each. */
const MAX_CHIPS = 4;

function formatPercent(value: number | null): string {
  return isValidMetric(value) ? `${value.toFixed(0)}%` : 'N/A';
}

function formatTemperature(value: number | null): string {
  return isValidMetric(value) ? `${value.toFixed(0)}°C` : 'N/A';
}

/** Always visible in the navigation bar, with its own 2 s polling (spec 003 §2.2). */
export function CompactGPUStatus() {
  const gpus = useSystemMonitorStore((state) => state.allGPUs);
  const compactError = useSystemMonitorStore((state) => state.compactError);
  const startCompactPolling = useSystemMonitorStore((state) => state.startCompactPolling);
  const stopCompactPolling = useSystemMonitorStore((state) => state.stopCompactPolling);

  useEffect(() => {
    startCompactPolling();
    return () => stopCompactPolling();
  }, [startCompactPolling, stopCompactPolling]);

  if (compactError) {
    return (
      <div className="compact-status" data-testid="compact-status" data-state="offline">
        <span className="compact-gpu">
          <span className="live-dot" data-state="error" aria-hidden="true" /> Server offline
        </span>
      </div>
    );
  }
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
    return (
      <div className="compact-status" data-testid="compact-status" data-state="ok">
        <span className="compact-gpu" title="Average utilization and hottest GPU">
          {gpus.length} GPUs · <span className={`text-${getUtilizationLevel(average)}`}>{formatPercent(average)}</span> ·{' '}
          <span className={`text-${getTemperatureLevel(hottest)}`}>{formatTemperature(hottest)}</span>
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
          ) : (
            <>
              <span className={`text-${getUtilizationLevel(gpu.utilization.gpu)}`}>
                {formatPercent(gpu.utilization.gpu)}
              </span>
              <span className={`text-${getTemperatureLevel(gpu.temperature)}`}>{formatTemperature(gpu.temperature)}</span>
            </>
          )}
        </span>
      ))}
    </div>
  );
}
