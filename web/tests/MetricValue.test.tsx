import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricValue } from '../src/components/SystemMonitor/MetricValue';
import { TemperaturePanel } from '../src/components/SystemMonitor/TemperaturePanel';
import { bandsFrom, useMetricCatalogue, type MetricEntry } from '../src/stores/metricCatalogue';
import { formatMetricText, gpuWarnings, levelOf } from '../src/utils/metricHelpers';
import { makeGPU } from './fixtures';

afterEach(cleanup);

describe('MetricValue', () => {
  it('displays a formatted percentage with its unit', () => {
    render(<MetricValue value={75.5} format="percent" />);
    expect(screen.getByText('75.5')).toBeTruthy();
    expect(screen.getByText('%')).toBeTruthy();
  });
  it('displays N/A for null, undefined and NaN', () => {
    render(
      <>
        <MetricValue value={null} format="percent" />
        <MetricValue value={undefined} format="temperature" />
        <MetricValue value={Number.NaN} format="power" />
      </>,
    );
    expect(screen.getAllByText('N/A')).toHaveLength(3);
  });
  it('renders zero as a number, not as missing', () => {
    render(<MetricValue value={0} format="percent" decimals={0} />);
    expect(screen.getByText('0')).toBeTruthy();
  });
  it('honours decimals and an explicit unit', () => {
    render(<MetricValue value={15.6789} format="memory" decimals={2} unit="GiB" />);
    expect(screen.getByText('15.68')).toBeTruthy();
    expect(screen.getByText('GiB')).toBeTruthy();
  });
});

describe('metric helpers', () => {
  it('formats plain text', () => {
    expect(formatMetricText(72, 'temperature', 0)).toBe('72 °C');
    expect(formatMetricText(Infinity, 'power')).toBe('N/A');
  });
  it('grades a value by its band: warning from the warning level, critical from the critical one', () => {
    const band = { warning: 70, critical: 85 };
    expect(levelOf(69.9, band)).toBe('ok');
    expect(levelOf(70, band)).toBe('warn');
    expect(levelOf(85, band)).toBe('critical');
    expect(levelOf(null, band)).toBe('unknown');
    expect(levelOf(99, undefined)).toBe('unknown'); // no band published: nothing to colour by
  });
  it('warns about hot, full or busy GPUs, most severe first', () => {
    const bands = { temperature: { warning: 80, critical: 85 }, memory: { warning: 90, critical: 95 } };
    const warnings = gpuWarnings({ utilization: 97, temperature: 86, memoryPercent: 50, powerPercent: 20 }, bands);
    expect(warnings.map((warning) => warning.severity)).toEqual(['critical', 'info']);
    expect(gpuWarnings({ utilization: 50, temperature: 82, memoryPercent: 91, powerPercent: 20 }, bands)).toEqual([
      { severity: 'warning', message: 'High temperature: 82 °C' },
      { severity: 'warning', message: 'High GPU memory usage: 91 %' },
    ]);
    expect(
      gpuWarnings({ utilization: null, temperature: null, memoryPercent: null, powerPercent: null }, bands),
    ).toEqual([]);
  });
});

function entry(key: string, thresholds: MetricEntry['thresholds']): MetricEntry {
  return {
    key,
    scope: 'gpu',
    unit: '°C',
    help: key,
    label: key,
    format: 'celsius',
    api_field: null,
    api_unit: null,
    history_name: null,
    history_unit: null,
    alert_name: key,
    alert_unit: null,
    prometheus_name: null,
    prometheus_type: null,
    prometheus_unit: null,
    thresholds,
  };
}

describe('colour bands from the metric catalogue', () => {
  afterEach(() => useMetricCatalogue.setState({ bands: {} }));

  it('takes each coloured reading\'s levels from its catalogue entry', () => {
    const byKey = new Map([
      ['gpu.temperature_c', entry('gpu.temperature_c', { warning: 87, critical: 92 })],
      ['gpu.memory_used_pct', entry('gpu.memory_used_pct', { warning: 90, critical: 95 })],
      ['gpu.memory_used_bytes', entry('gpu.memory_used_bytes', null)],
    ]);
    expect(bandsFrom(byKey)).toEqual({
      temperature: { warning: 87, critical: 92 },
      gpuMemory: { warning: 90, critical: 95 },
    });
  });

  it('colours the temperature panel and states its levels as the server publishes them', () => {
    const byKey = new Map([['gpu.temperature_c', entry('gpu.temperature_c', { warning: 87, critical: 92 })]]);
    useMetricCatalogue.setState({ bands: bandsFrom(byKey) });
    const { rerender } = render(<TemperaturePanel gpu={makeGPU(0, { temperature: 86 })} />);
    expect(screen.getByTestId('gpu-temperature').className).toContain('text-ok');
    expect(screen.getByTestId('temperature-levels').textContent).toBe('87°C / 92°C');
    rerender(<TemperaturePanel gpu={makeGPU(0, { temperature: 88 })} />);
    expect(screen.getByTestId('gpu-temperature').className).toContain('text-warn');
    expect(screen.getByText('High temperature: 88 °C')).toBeTruthy();
    rerender(<TemperaturePanel gpu={makeGPU(0, { temperature: 92 })} />);
    expect(screen.getByTestId('gpu-temperature').className).toContain('text-critical');
    expect(screen.getByText('Critical temperature: 92 °C')).toBeTruthy();
  });
});
