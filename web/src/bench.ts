/**
 * Hooks for bench/web_render.py, loaded only when the page URL has `?bench` (a separate chunk, so the
 * dashboard itself does not carry it). Fills the live history and times single live updates.
 */
import { flushSync } from 'react-dom';
import { liveHistory } from './stores/liveHistory';
import { liveController } from './stores/liveController';
import { resolveGPU, selectGPU, useLiveData } from './stores/liveData';
import { usePreferences } from './stores/preferences';
import { aggregateDataPoints, type DataPoint } from './utils/aggregate';
import type { GPUMetrics } from './types/system';

function wave(second: number, gpu: number, period: number, low: number, high: number): number {
  const phase = Math.sin((second + gpu * 977) / period) * 0.5 + 0.5;
  return low + (high - low) * phase;
}

function syntheticGPU(template: GPUMetrics, gpuId: number, second: number): GPUMetrics {
  return {
    ...template,
    gpu_id: gpuId,
    utilization: { ...template.utilization, gpu: wave(second, gpuId, 300, 5, 100) },
    memory: { ...template.memory, used_gb: wave(second, gpuId, 2000, 10, 75) },
    temperature: wave(second, gpuId, 900, 35, 88),
    power: { ...template.power, current_watts: wave(second, gpuId, 200, 80, 690) },
  };
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

const bench = {
  /** Stop the page's own updates so only measured ones happen. */
  pause(): void {
    liveController.stop();
  },

  /** `seconds` of one-second history for `gpuCount` GPUs, ending now. Returns the fill time in ms. */
  fill(gpuCount: number, seconds: number): number {
    const { frame } = useLiveData.getState();
    const gpuMetrics = frame?.gpus[0];
    const systemMetrics = frame?.system;
    if (!gpuMetrics || !systemMetrics) throw new Error('the dashboard has no data yet');
    const started = performance.now();
    const end = Date.now() - 1000;
    liveHistory.clear();
    for (let second = seconds; second > 0; second -= 1) {
      const time = end - second * 1000;
      const gpus = Array.from({ length: gpuCount }, (_, id) => syntheticGPU(gpuMetrics, id, time / 1000));
      liveHistory.record(time, { ...systemMetrics, cpu: { ...systemMetrics.cpu, usage_percent: wave(second, 99, 120, 5, 60) } }, gpus);
    }
    return performance.now() - started;
  },

  /**
   * Time `count` live updates, each from store update to charts and panels redrawn and laid out, split
   * into React's commit, uPlot's redraw (a microtask after it) and style plus layout.
   */
  async measure(gpuCount: number, count: number): Promise<{ total: number[]; commit: number[]; draw: number[]; layout: number[] }> {
    const start = useLiveData.getState().frame;
    const template = start ? selectGPU(start, resolveGPU(start, usePreferences.getState().selectedGPU)) : null;
    if (!start || !template || !start.system) throw new Error('the dashboard has no data yet');
    const result = { total: [] as number[], commit: [] as number[], draw: [] as number[], layout: [] as number[] };
    for (let i = 0; i < count; i += 1) {
      await nextFrame();
      const second = Date.now() / 1000;
      const gpus = Array.from({ length: gpuCount }, (_, id) => syntheticGPU(template, id, second));
      const frame = { ...start, gpus, snapshotTime: second * 1000 };
      const started = performance.mark('update-start').startTime;
      flushSync(() => {
        liveHistory.record(Date.now(), frame.system, gpus);
        useLiveData.setState({ frame });
      });
      const committed = performance.now();
      // uPlot commits its redraw in a microtask; reading layout makes the browser do style and layout now.
      await Promise.resolve();
      await Promise.resolve();
      const drawn = performance.now();
      document.body.getBoundingClientRect();
      performance.mark('update-end');
      result.total.push(performance.measure('live-update', 'update-start', 'update-end').duration);
      result.commit.push(committed - started);
      result.draw.push(drawn - committed);
      result.layout.push(performance.now() - drawn);
      // Live updates arrive at most every 0.5 s; let the browser paint in between like it would.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    performance.clearMarks();
    performance.clearMeasures();
    return result;
  },

  /** The spec's approach for comparison: re-filter and re-average the whole day on every update. */
  specAggregation(gpuCount: number, seconds: number, count: number): number[] {
    const end = Date.now();
    const points: DataPoint[] = [];
    for (let second = seconds; second > 0; second -= 1) {
      const values: number[] = [wave(second, 99, 120, 5, 60), 8];
      for (let gpu = 0; gpu < gpuCount; gpu += 1) {
        values.push(wave(second, gpu, 300, 5, 100), wave(second, gpu, 2000, 10, 75), wave(second, gpu, 900, 35, 88), wave(second, gpu, 200, 80, 690));
      }
      points.push({ time: end - second * 1000, values });
    }
    const durations: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      const cutoff = Date.now() - 86_400_000;
      aggregateDataPoints(points.filter((point) => point.time > cutoff), 15_000);
      durations.push(performance.now() - started);
    }
    return durations;
  },

  heapBytes(): number | null {
    const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return memory ? memory.usedJSHeapSize : null;
  },
};

declare global {
  interface Window {
    __sentinelBench?: typeof bench;
  }
}

export function install(): void {
  window.__sentinelBench = bench;
}
