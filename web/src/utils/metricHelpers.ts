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

/**
 * Where a reading turns yellow and red: published by the server's metric catalogue (the same levels its
 * built-in alert rules fire at), never restated here. Undefined until the catalogue has loaded.
 */
export interface Band {
  warning: number;
  critical: number;
}

/** Above this a GPU is noted as very busy: information, not a level anything alerts on. */
export const HIGH_UTILIZATION_NOTICE_PCT = 95;

/** A value's level in its band; without a value or a band there is nothing to colour by. */
export function levelOf(value: number | null | undefined, band: Band | null | undefined): Level {
  if (!isValidMetric(value) || !band) return 'unknown';
  if (value < band.warning) return 'ok';
  if (value < band.critical) return 'warn';
  return 'critical';
}

export type Severity = 'info' | 'warning' | 'critical';

export interface Warning {
  severity: Severity;
  message: string;
}

export interface GPUBands {
  temperature?: Band;
  memory?: Band;
  power?: Band;
}

/** The warnings a GPU deserves right now, most severe first. */
export function gpuWarnings(
  input: {
    utilization: number | null | undefined;
    temperature: number | null | undefined;
    memoryPercent: number | null | undefined;
    powerPercent: number | null | undefined;
  },
  bands: GPUBands,
): Warning[] {
  const warnings: Warning[] = [];
  const { utilization, temperature, memoryPercent, powerPercent } = input;
  const temperatureLevel = levelOf(temperature, bands.temperature);
  if (temperatureLevel === 'critical') {
    warnings.push({ severity: 'critical', message: `Critical temperature: ${temperature?.toFixed(0)} °C` });
  } else if (temperatureLevel === 'warn') {
    warnings.push({ severity: 'warning', message: `High temperature: ${temperature?.toFixed(0)} °C` });
  }
  const memoryLevel = levelOf(memoryPercent, bands.memory);
  if (memoryLevel === 'critical') {
    warnings.push({ severity: 'critical', message: `GPU memory almost full: ${memoryPercent?.toFixed(0)} %` });
  } else if (memoryLevel === 'warn') {
    warnings.push({ severity: 'warning', message: `High GPU memory usage: ${memoryPercent?.toFixed(0)} %` });
  }
  const powerLevel = levelOf(powerPercent, bands.power);
  if (powerLevel === 'warn' || powerLevel === 'critical') {
    warnings.push({ severity: 'warning', message: `Near power limit: ${powerPercent?.toFixed(0)} %` });
  }
  if (isValidMetric(utilization) && utilization > HIGH_UTILIZATION_NOTICE_PCT) {
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
