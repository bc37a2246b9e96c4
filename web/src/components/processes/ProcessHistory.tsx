import { useEffect, useMemo, useState } from 'react';
import { processesApi } from '../../api/processes';
import { usePreferences } from '../../stores/preferences';
import type { GPUProcess, ProcessHistoryResponse, TimeRange } from '../../types/system';
import type { ChartData } from '../../utils/chartData';
import { errorMessage } from '../../utils/errors';
import { TimeSeriesChart } from '../charts/TimeSeriesChart';
import { useLiveProcessSamples } from './useLiveProcessSamples';

const RANGES: TimeRange[] = ['1h', '6h', '24h', '7d'];
/** The server keeps process usage per minute: a new point at most once a minute. */
const REFRESH_MS = 60_000;
const PERCENT_RANGE: [number, number] = [0, 100];
const MIB_PER_GIB = 1024;

function formatGiB(value: number | null): string {
  return value === null ? 'N/A' : `${value.toFixed(2)} GiB`;
}

function formatPercent(value: number | null): string {
  return value === null ? 'N/A' : `${value.toFixed(1)} %`;
}

/** One chart's lines from the series of this process's name (a reused PID is another program). */
function chartOf(
  history: ProcessHistoryResponse | null,
  name: string,
  fields: { key: 'gpu_memory_mb' | 'sm_percent' | 'gpu_share_percent'; label: string }[],
): ChartData {
  const series = history?.series.find((candidate) => candidate.name === name) ?? null;
  return {
    x: series?.timestamps ?? [],
    columns: fields.map((field) => {
      const values = series?.[field.key] ?? [];
      return field.key === 'gpu_memory_mb' ? values.map((mib) => (mib === null ? null : mib / MIB_PER_GIB)) : values;
    }),
    series: fields.map((field, index) => ({ label: field.label, colorKey: index })),
  };
}

/** GPU memory and utilization of one process over time, from server history (per minute). */
export function ProcessHistory({ process }: { process: GPUProcess }) {
  const theme = usePreferences((state) => state.theme);
  const [range, setRange] = useState<TimeRange>('1h');
  const [history, setHistory] = useState<ProcessHistoryResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const gpuId = process.gpu_id ?? null;

  useEffect(() => {
    const controller = new AbortController();
    const load = () =>
      processesApi
        .history(process.pid, gpuId, range, controller.signal)
        .then((response) => {
          setHistory(response);
          setError(null);
        })
        .catch((caught: unknown) => {
          if (!controller.signal.aborted) setError(errorMessage(caught));
        });
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [process.pid, gpuId, range]);

  const memory = useMemo(
    () => chartOf(history, process.process_name, [{ key: 'gpu_memory_mb', label: 'Peak GPU memory' }]),
    [history, process.process_name],
  );
  const utilization = useMemo(
    () =>
      chartOf(history, process.process_name, [
        { key: 'sm_percent', label: 'SM share' },
        { key: 'gpu_share_percent', label: 'Share of GPU time' },
      ]),
    [history, process.process_name],
  );
  const points = memory.x.length;
  const live = useLiveProcessSamples(process.pid, gpuId);

  return (
    <div className="process-history" data-testid="process-history" data-points={points}>
      <h3 className="process-history-heading">Live, since selected</h3>
      <div className="grid grid-2">
        <TimeSeriesChart title="GPU memory (live)" testId="process-live-memory" data={live.memory} unit="GiB" decimals={2} theme={theme} />
        <TimeSeriesChart
          title="SM share (live)"
          testId="process-live-utilization"
          data={live.utilization}
          unit="%"
          yRange={PERCENT_RANGE}
          theme={theme}
        />
      </div>
      <h3 className="process-history-heading">History, per minute</h3>
      <div className="segmented" role="group" aria-label="History range">
        {RANGES.map((option) => (
          <button key={option} type="button" aria-pressed={option === range} onClick={() => setRange(option)}>
            {option}
          </button>
        ))}
      </div>
      {error && <p className="form-error">{error}</p>}
      {!error && history && points === 0 && (
        <p className="faint">No history yet: the server records each process once a minute.</p>
      )}
      {points === 1 && (
        <p className="muted" data-testid="process-history-first-minute">
          First minute recorded: peak GPU memory {formatGiB(memory.columns[0]?.[0] ?? null)}, SM share{' '}
          {formatPercent(utilization.columns[0]?.[0] ?? null)}. The chart starts with the second minute.
        </p>
      )}
      {points > 1 && (
        <div className="grid grid-2">
          <TimeSeriesChart title="GPU memory" testId="process-chart-memory" data={memory} unit="GiB" decimals={2} theme={theme} />
          <TimeSeriesChart
            title="Utilization"
            testId="process-chart-utilization"
            data={utilization}
            unit="%"
            yRange={PERCENT_RANGE}
            theme={theme}
          />
        </div>
      )}
    </div>
  );
}
