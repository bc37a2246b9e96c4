import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { clamp, getTemperatureLevel, isValidMetric, THRESHOLDS } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

/** Bar scale: 0 °C to 100 °C covers every GPU's operating range. */
const SCALE_MAX_C = 100;

export const TemperaturePanel = memo(function TemperaturePanel({ gpu }: { gpu: GPUMetrics }) {
  const temperature = gpu.temperature;
  const level = getTemperatureLevel(temperature);
  return (
    <Panel title="Temperature" testId="panel-temperature">
      <div className={`big-value text-${level}`} data-testid="gpu-temperature">
        <MetricValue value={temperature} format="temperature" decimals={0} />
      </div>
      <ProgressBar
        percent={isValidMetric(temperature) ? clamp((100 * temperature) / SCALE_MAX_C, 0, 100) : null}
        level={level}
        label="GPU temperature"
      />
      <MetricRow label="Memory (HBM)">
        <MetricValue value={gpu.memory_temperature} format="temperature" decimals={0} />
      </MetricRow>
      <MetricRow label="Warning / critical">
        <span className="mono">
          {THRESHOLDS.temperature.warn}
          <span className="unit">°C</span> / {THRESHOLDS.temperature.critical}
          <span className="unit">°C</span>
        </span>
      </MetricRow>
      {isValidMetric(temperature) && temperature >= THRESHOLDS.temperature.critical && (
        <MetricWarning message={`Critical temperature: ${temperature.toFixed(0)} °C`} severity="critical" />
      )}
      {isValidMetric(temperature) &&
        temperature >= THRESHOLDS.temperature.warn &&
        temperature < THRESHOLDS.temperature.critical && (
          <MetricWarning message={`High temperature: ${temperature.toFixed(0)} °C`} severity="warning" />
        )}
    </Panel>
  );
});
