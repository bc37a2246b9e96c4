import { memo } from 'react';
import type { GPUMetrics } from '../../types/system';
import { clamp, isValidMetric, levelOf } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricWarning } from './MetricWarning';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { MetricLabel } from './MetricLabel';
import { useLevelBands } from '../../stores/metricCatalogue';

/** Bar scale: 0 °C to 100 °C covers every GPU's operating range. */
const SCALE_MAX_C = 100;

export const TemperaturePanel = memo(function TemperaturePanel({ gpu }: { gpu: GPUMetrics }) {
  const bands = useLevelBands();
  const temperature = gpu.temperature;
  const band = bands.temperature;
  const level = levelOf(temperature, band);
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
      <MetricRow label={<MetricLabel metricKey="gpu.memory_temperature_c" />}>
        <MetricValue value={gpu.memory_temperature} format="temperature" decimals={0} />
      </MetricRow>
      {band && (
        <MetricRow label="Warning / critical">
          <span className="mono" data-testid="temperature-levels">
            {band.warning}
            <span className="unit">°C</span> / {band.critical}
            <span className="unit">°C</span>
          </span>
        </MetricRow>
      )}
      {isValidMetric(temperature) && level === 'critical' && (
        <MetricWarning message={`Critical temperature: ${temperature.toFixed(0)} °C`} severity="critical" />
      )}
      {isValidMetric(temperature) && level === 'warn' && (
        <MetricWarning message={`High temperature: ${temperature.toFixed(0)} °C`} severity="warning" />
      )}
    </Panel>
  );
});
