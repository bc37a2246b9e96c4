import type { ChartData } from '../../utils/chartData';
import type { Theme } from '../../types/system';
import { THRESHOLDS } from '../../utils/metricHelpers';
import { TimeSeriesChart, type Threshold } from './TimeSeriesChart';

interface ChartProps {
  data: ChartData;
  theme: Theme;
}

const PERCENT_RANGE: [number, number] = [0, 100];
const TEMPERATURE_THRESHOLDS: Threshold[] = [
  { value: THRESHOLDS.temperature.warn, label: `Warning ${THRESHOLDS.temperature.warn} °C`, tone: 'warn' },
  { value: THRESHOLDS.temperature.critical, label: `Critical ${THRESHOLDS.temperature.critical} °C`, tone: 'critical' },
];

export function UtilizationChart({ data, theme }: ChartProps) {
  return (
    <TimeSeriesChart
      title="Utilization (GPU + CPU)"
      testId="chart-utilization"
      data={data}
      unit="%"
      yRange={PERCENT_RANGE}
      theme={theme}
    />
  );
}

export function MemoryUsageChart({ data, theme }: ChartProps) {
  return (
    <TimeSeriesChart title="Memory (VRAM + RAM)" testId="chart-memory" data={data} unit="GB" decimals={2} theme={theme} />
  );
}

export function TemperatureChart({ data, theme }: ChartProps) {
  return (
    <TimeSeriesChart
      title="Temperature"
      testId="chart-temperature"
      data={data}
      unit="°C"
      decimals={0}
      yRange={[0, 100]}
      thresholds={TEMPERATURE_THRESHOLDS}
      theme={theme}
    />
  );
}

export function PowerChart({ data, theme }: ChartProps) {
  return <TimeSeriesChart title="Power" testId="chart-power" data={data} unit="W" decimals={0} theme={theme} />;
}
