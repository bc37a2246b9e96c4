/** Safe access, formatting and the colour scales of spec 003 §6. */

export type MetricFormat = 'percent' | 'memory' | 'temperature' | 'power' | 'number' | 'clock' | 'rate';

export function isValidMetric(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const DEFAULT_UNITS: Record<MetricFormat, string> = {
  percent: '%',
  memory: 'GB',
  temperature: '°C',
  power: 'W',
  number: '',
  clock: 'MHz',
  rate: 'MB/s',
};

export function getDefaultUnit(format: MetricFormat): string {
  return DEFAULT_UNITS[format];
}

export function formatMetricValue(value: number, format: MetricFormat, decimals = 1): string {
  switch (format) {
    case 'number':
    case 'clock':
      return Number.isInteger(value) && decimals <= 1 ? value.toFixed(0) : value.toFixed(decimals);
    default:
      return value.toFixed(decimals);
  }
}

/** Plain text form for titles, exports and tests: "75.5 %" or "N/A". */
export function formatMetricText(
  value: number | null | undefined,
  format: MetricFormat,
  decimals = 1,
  unit?: string,
): string {
  if (!isValidMetric(value)) return 'N/A';
  const displayUnit = unit ?? getDefaultUnit(format);
  const formatted = formatMetricValue(value, format, decimals);
  return displayUnit ? `${formatted} ${displayUnit}` : formatted;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function percentOf(used: number | null | undefined, total: number | null | undefined): number | null {
  if (!isValidMetric(used) || !isValidMetric(total) || total <= 0) return null;
  return (100 * used) / total;
}

/** Severity bands. Colour classes live in styles.css under these names. */
export type Level = 'unknown' | 'ok' | 'warn' | 'critical';

export const THRESHOLDS = {
  /** §6.2: green below 70 %, yellow below 85 %, red above. */
  utilization: { warn: 70, critical: 85, notice: 95 },
  /** Most data-centre and consumer GPUs start throttling in the mid 80s °C. */
  temperature: { warn: 80, critical: 90 },
  memory: { warn: 85, critical: 95 },
  power: { warn: 90, critical: 98 },
  storage: { warn: 85, critical: 95 },
} as const;

function levelFor(value: number | null | undefined, warn: number, critical: number): Level {
  if (!isValidMetric(value)) return 'unknown';
  if (value < warn) return 'ok';
  if (value < critical) return 'warn';
  return 'critical';
}

export function getUtilizationLevel(value: number | null | undefined): Level {
  return levelFor(value, THRESHOLDS.utilization.warn, THRESHOLDS.utilization.critical);
}

export function getTemperatureLevel(value: number | null | undefined): Level {
  return levelFor(value, THRESHOLDS.temperature.warn, THRESHOLDS.temperature.critical);
}

export function getMemoryLevel(value: number | null | undefined): Level {
  return levelFor(value, THRESHOLDS.memory.warn, THRESHOLDS.memory.critical);
}

export function getPowerLevel(value: number | null | undefined): Level {
  return levelFor(value, THRESHOLDS.power.warn, THRESHOLDS.power.critical);
}

export function getStorageLevel(value: number | null | undefined): Level {
  return levelFor(value, THRESHOLDS.storage.warn, THRESHOLDS.storage.critical);
}

export type Severity = 'info' | 'warning' | 'critical';

export interface Warning {
  severity: Severity;
  message: string;
}

/** The warnings a GPU deserves right now, most severe first. */
export function gpuWarnings(input: {
  utilization: number | null | undefined;
  temperature: number | null | undefined;
  memoryPercent: number | null | undefined;
  powerPercent: number | null | undefined;
}): Warning[] {
  const warnings: Warning[] = [];
  const { utilization, temperature, memoryPercent, powerPercent } = input;
  if (isValidMetric(temperature) && temperature >= THRESHOLDS.temperature.critical) {
    warnings.push({ severity: 'critical', message: `Critical temperature: ${temperature.toFixed(0)} °C` });
  } else if (isValidMetric(temperature) && temperature >= THRESHOLDS.temperature.warn) {
    warnings.push({ severity: 'warning', message: `High temperature: ${temperature.toFixed(0)} °C` });
  }
  if (isValidMetric(memoryPercent) && memoryPercent >= THRESHOLDS.memory.critical) {
    warnings.push({ severity: 'critical', message: `GPU memory almost full: ${memoryPercent.toFixed(0)} %` });
  } else if (isValidMetric(memoryPercent) && memoryPercent >= THRESHOLDS.memory.warn) {
    warnings.push({ severity: 'warning', message: `High GPU memory usage: ${memoryPercent.toFixed(0)} %` });
  }
  if (isValidMetric(powerPercent) && powerPercent >= THRESHOLDS.power.warn) {
    warnings.push({ severity: 'warning', message: `Near power limit: ${powerPercent.toFixed(0)} %` });
  }
  if (isValidMetric(utilization) && utilization > THRESHOLDS.utilization.notice) {
    warnings.push({ severity: 'info', message: 'High GPU utilization' });
  }
  return warnings;
}

export function formatBytesPerSecond(mbps: number | null | undefined): string {
  if (!isValidMetric(mbps)) return 'N/A';
  if (mbps >= 1000) return `${(mbps / 1000).toFixed(2)} GB/s`;
  if (mbps >= 1) return `${mbps.toFixed(1)} MB/s`;
  return `${(mbps * 1000).toFixed(0)} KB/s`;
}

export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m`;
}

/** Network rates arrive in megabits per second. */
export function formatMegabits(mbps: number | null | undefined): string {
  if (!isValidMetric(mbps)) return 'N/A';
  if (mbps >= 1000) return `${(mbps / 1000).toFixed(2)} Gbit/s`;
  if (mbps >= 1) return `${mbps.toFixed(1)} Mbit/s`;
  return `${(mbps * 1000).toFixed(0)} kbit/s`;
}
