import { describe, expect, it } from 'vitest';
import { CPU_COLOR, GPU_COLORS, RAM_COLOR } from '../src/components/charts/palette';
import { formatHoverTime } from '../src/utils/chartData';

/** CIE76 colour difference in Lab: about 2.3 is barely noticeable, above 30 plainly different. */
function lab(hex: string): [number, number, number] {
  const channel = (offset: number) => {
    const c = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [channel(1), channel(3), channel(5)];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

function distance(a: string, b: string): number {
  const [l1, a1, b1] = lab(a);
  const [l2, a2, b2] = lab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

describe('chart palette', () => {
  it('keeps eight GPUs, the CPU and RAM plainly apart', () => {
    const colors = [...GPU_COLORS, CPU_COLOR, RAM_COLOR];
    expect(new Set(colors).size).toBe(10);
    let closest = Infinity;
    for (let i = 0; i < colors.length; i += 1) {
      for (let j = i + 1; j < colors.length; j += 1) closest = Math.min(closest, distance(colors[i]!, colors[j]!));
    }
    expect(closest).toBeGreaterThan(30); // the previous palette's closest pair (GPU 4 / RAM) was 22
  });
});

describe('hover time', () => {
  it('shows the second', () => {
    const text = formatHoverTime(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000);
    expect(text).toMatch(/:05\b/);
    expect(formatHoverTime(null)).toBe('--');
  });
  it('names the bucket a point averages, and only when it is more than one sample', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5) / 1000;
    expect(formatHoverTime(at, 15)).toMatch(/:05 · 15 s avg$/);
    expect(formatHoverTime(at, 60)).toMatch(/ · 1 min avg$/);
    expect(formatHoverTime(at, 3600)).toMatch(/ · 1 h avg$/);
    expect(formatHoverTime(at, 1)).not.toContain('avg');
  });
});
