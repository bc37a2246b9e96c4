import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricValue } from '../src/components/SystemMonitor/MetricValue';
import { formatMetricText, gpuWarnings, getUtilizationLevel, getTemperatureLevel } from '../src/utils/metricHelpers';

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
  it('colours utilization as spec 003 §6.2: green < 70, yellow < 85, red above', () => {
    expect(getUtilizationLevel(69.9)).toBe('ok');
    expect(getUtilizationLevel(70)).toBe('warn');
    expect(getUtilizationLevel(85)).toBe('critical');
    expect(getUtilizationLevel(null)).toBe('unknown');
  });
  it('grades temperature', () => {
    expect(getTemperatureLevel(79)).toBe('ok');
    expect(getTemperatureLevel(80)).toBe('warn');
    expect(getTemperatureLevel(90)).toBe('critical');
  });
  it('warns about hot, full or busy GPUs, most severe first', () => {
    const warnings = gpuWarnings({ utilization: 97, temperature: 91, memoryPercent: 50, powerPercent: 20 });
    expect(warnings.map((warning) => warning.severity)).toEqual(['critical', 'info']);
    expect(gpuWarnings({ utilization: null, temperature: null, memoryPercent: null, powerPercent: null })).toEqual([]);
  });
});
