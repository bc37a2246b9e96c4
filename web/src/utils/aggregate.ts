/**
 * Time bucketing for the trend charts (spec 003 §5.2, §7.2).
 *
 * `aggregateDataPoints` is the spec's batch form. `BucketRing` does the same incrementally: each live
 * update folds into the newest bucket in O(1), and a fixed capacity bounds memory however long the page
 * stays open, so a day of one-second points costs neither time nor growth.
 */

export interface DataPoint {
  /** Milliseconds since the epoch. */
  time: number;
  values: readonly (number | null)[];
  /** Lowest and highest value behind each field (a server bucket's min and max); the value if absent. */
  mins?: readonly (number | null)[];
  maxs?: readonly (number | null)[];
}

/** The lowest and highest value of one field per point, aligned like its averages. */
export interface FieldRange {
  lower: (number | null)[];
  upper: (number | null)[];
}

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Average the points of each `intervalMs` bucket; a field with no number in a bucket stays null. */
export function aggregateDataPoints(points: readonly DataPoint[], intervalMs: number): DataPoint[] {
  const buckets = new Map<number, { sums: number[]; counts: number[] }>();
  for (const point of points) {
    const key = Math.floor(point.time / intervalMs);
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { sums: point.values.map(() => 0), counts: point.values.map(() => 0) };
      buckets.set(key, bucket);
    }
    point.values.forEach((value, index) => {
      if (isNumber(value) && bucket) {
        bucket.sums[index] = (bucket.sums[index] ?? 0) + value;
        bucket.counts[index] = (bucket.counts[index] ?? 0) + 1;
      }
    });
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, { sums, counts }]) => ({
      time: key * intervalMs,
      values: sums.map((sum, index) => {
        const count = counts[index] ?? 0;
        return count > 0 ? sum / count : null;
      }),
    }));
}

/**
 * A fixed-capacity ring of time buckets holding a running average, minimum and maximum per field
 * (min/max in single precision: they only draw the band around a line).
 */
export class BucketRing {
  readonly bucketMs: number;
  readonly capacity: number;
  readonly fieldCount: number;
  private readonly keys: Float64Array;
  private readonly sums: Float64Array;
  private readonly counts: Uint32Array;
  private readonly mins: Float32Array;
  private readonly maxs: Float32Array;
  private head = 0; // index of the oldest bucket
  private size = 0;

  constructor(bucketMs: number, capacity: number, fieldCount: number) {
    this.bucketMs = bucketMs;
    this.capacity = capacity;
    this.fieldCount = fieldCount;
    this.keys = new Float64Array(capacity);
    this.sums = new Float64Array(capacity * fieldCount);
    this.counts = new Uint32Array(capacity * fieldCount);
    this.mins = new Float32Array(capacity * fieldCount);
    this.maxs = new Float32Array(capacity * fieldCount);
  }

  get length(): number {
    return this.size;
  }

  private slot(offset: number): number {
    return (this.head + offset) % this.capacity;
  }

  /**
   * Fold one sample in; `mins`/`maxs` give the range behind each value where it is itself an aggregate.
   * Samples older than the newest bucket are dropped: charts only move forward.
   */
  push(
    timeMs: number,
    values: readonly (number | null | undefined)[],
    mins?: readonly (number | null | undefined)[],
    maxs?: readonly (number | null | undefined)[],
  ): void {
    const key = Math.floor(timeMs / this.bucketMs);
    let slot: number;
    if (this.size > 0 && this.keys[this.slot(this.size - 1)] === key) {
      slot = this.slot(this.size - 1);
    } else {
      if (this.size > 0 && key < (this.keys[this.slot(this.size - 1)] ?? -Infinity)) return;
      if (this.size < this.capacity) {
        slot = this.slot(this.size);
        this.size += 1;
      } else {
        slot = this.head;
        this.head = (this.head + 1) % this.capacity;
      }
      this.keys[slot] = key;
      this.sums.fill(0, slot * this.fieldCount, (slot + 1) * this.fieldCount);
      this.counts.fill(0, slot * this.fieldCount, (slot + 1) * this.fieldCount);
    }
    const base = slot * this.fieldCount;
    for (let field = 0; field < this.fieldCount; field += 1) {
      const value = values[field];
      if (!isNumber(value)) continue;
      const index = base + field;
      const low = mins?.[field];
      const high = maxs?.[field];
      const lowest = isNumber(low) ? Math.min(low, value) : value;
      const highest = isNumber(high) ? Math.max(high, value) : value;
      const first = (this.counts[index] ?? 0) === 0;
      this.mins[index] = first ? lowest : Math.min(this.mins[index] ?? lowest, lowest);
      this.maxs[index] = first ? highest : Math.max(this.maxs[index] ?? highest, highest);
      this.sums[index] = (this.sums[index] ?? 0) + value;
      this.counts[index] = (this.counts[index] ?? 0) + 1;
    }
  }

  /** Index of the first bucket at or after `fromMs` (binary search: buckets are sorted). */
  private firstIndexFrom(fromMs: number): number {
    const fromKey = Math.floor(fromMs / this.bucketMs);
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.keys[this.slot(mid)] ?? 0) < fromKey) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** How many buckets start at or after `fromMs`. */
  countFrom(fromMs: number): number {
    return this.size - this.firstIndexFrom(fromMs);
  }

  /**
   * Bucket start times in seconds (uPlot's x unit) from `fromMs` on. With `stride` > 1, every `stride`
   * buckets (aligned to the epoch, so groups do not shift as new points arrive) become one point.
   */
  times(fromMs: number, stride = 1): number[] {
    const start = this.firstIndexFrom(fromMs);
    const out: number[] = [];
    let lastGroup = Number.NaN;
    for (let i = start; i < this.size; i += 1) {
      const group = Math.floor((this.keys[this.slot(i)] ?? 0) / stride);
      if (group !== lastGroup) {
        out.push((group * stride * this.bucketMs) / 1000);
        lastGroup = group;
      }
    }
    return out;
  }

  /** One field's averages from `fromMs` on (grouped like `times`), null where a bucket had no number. */
  field(field: number, fromMs: number, stride = 1): (number | null)[] {
    const start = this.firstIndexFrom(fromMs);
    const out: (number | null)[] = [];
    let lastGroup = Number.NaN;
    let sum = 0;
    let count = 0;
    for (let i = start; i < this.size; i += 1) {
      const slot = this.slot(i);
      const group = Math.floor((this.keys[slot] ?? 0) / stride);
      if (group !== lastGroup) {
        if (i > start) out.push(count > 0 ? sum / count : null);
        lastGroup = group;
        sum = 0;
        count = 0;
      }
      const index = slot * this.fieldCount + field;
      sum += this.sums[index] ?? 0;
      count += this.counts[index] ?? 0;
    }
    if (this.size > start) out.push(count > 0 ? sum / count : null);
    return out;
  }

  /** One field's lowest and highest values from `fromMs` on, grouped like `times`; null without data. */
  fieldRange(field: number, fromMs: number, stride = 1): FieldRange {
    const start = this.firstIndexFrom(fromMs);
    const lower: (number | null)[] = [];
    const upper: (number | null)[] = [];
    let lastGroup = Number.NaN;
    let low = Infinity;
    let high = -Infinity;
    const flush = () => {
      lower.push(low === Infinity ? null : low);
      upper.push(high === -Infinity ? null : high);
    };
    for (let i = start; i < this.size; i += 1) {
      const slot = this.slot(i);
      const group = Math.floor((this.keys[slot] ?? 0) / stride);
      if (group !== lastGroup) {
        if (i > start) flush();
        lastGroup = group;
        low = Infinity;
        high = -Infinity;
      }
      const index = slot * this.fieldCount + field;
      if ((this.counts[index] ?? 0) > 0) {
        low = Math.min(low, this.mins[index] ?? low);
        high = Math.max(high, this.maxs[index] ?? high);
      }
    }
    if (this.size > start) flush();
    return { lower, upper };
  }

  /** Newest bucket's start in ms, or null when empty. */
  lastTime(): number | null {
    if (this.size === 0) return null;
    return (this.keys[this.slot(this.size - 1)] ?? 0) * this.bucketMs;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  /**
   * Put older points (server history, sorted by time) underneath what this ring holds. Where both cover
   * a bucket the older points win: the server saw every GPU, the page only the ones it polled.
   */
  backfill(points: readonly DataPoint[]): void {
    const last = points[points.length - 1];
    if (!last) return;
    const lastKey = Math.floor(last.time / this.bucketMs);
    const kept: { key: number; sums: Float64Array; counts: Uint32Array; mins: Float32Array; maxs: Float32Array }[] =
      [];
    for (let i = 0; i < this.size; i += 1) {
      const slot = this.slot(i);
      const key = this.keys[slot] ?? 0;
      if (key <= lastKey) continue;
      const from = slot * this.fieldCount;
      kept.push({
        key,
        sums: this.sums.slice(from, from + this.fieldCount),
        counts: this.counts.slice(from, from + this.fieldCount),
        mins: this.mins.slice(from, from + this.fieldCount),
        maxs: this.maxs.slice(from, from + this.fieldCount),
      });
    }
    this.clear();
    for (const point of points) this.push(point.time, point.values, point.mins, point.maxs);
    for (const bucket of kept) {
      let slot: number;
      if (this.size < this.capacity) {
        slot = this.slot(this.size);
        this.size += 1;
      } else {
        slot = this.head;
        this.head = (this.head + 1) % this.capacity;
      }
      this.keys[slot] = bucket.key;
      this.sums.set(bucket.sums, slot * this.fieldCount);
      this.counts.set(bucket.counts, slot * this.fieldCount);
      this.mins.set(bucket.mins, slot * this.fieldCount);
      this.maxs.set(bucket.maxs, slot * this.fieldCount);
    }
  }
}
