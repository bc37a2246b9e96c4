/**
 * Applies the live stream's incremental frames (`mode=delta`, see `gpu_sentinel/json_delta.py`).
 *
 * A patch is an object (changes inside an object, or inside an array of the same length by index), a
 * scalar or null (the new value), `[value]` (the new value, for objects and arrays) or `[]` (the member
 * is removed). Unchanged parts keep their identity, so memoized panels of unchanged GPUs skip rendering.
 */

export class DeltaError extends Error {}

export function applyDelta<T>(document: T, patch: unknown): T {
  return apply(document, patch) as T;
}

function apply(target: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) {
    if (patch.length !== 1) throw new DeltaError('a removal marker [] stands only for an object member');
    return patch[0];
  }
  if (patch === null || typeof patch !== 'object') return patch;
  const changes = Object.entries(patch as Record<string, unknown>);
  if (Array.isArray(target)) {
    const result = target.slice();
    for (const [key, change] of changes) {
      const index = Number(key);
      if (!Number.isInteger(index) || index < 0 || index >= result.length) {
        throw new DeltaError(`no element ${key} in an array of ${result.length}`);
      }
      result[index] = apply(result[index], change);
    }
    return result;
  }
  if (target === null || typeof target !== 'object') throw new DeltaError('an object patch needs an object or array');
  const result: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [key, change] of changes) {
    if (key === '__proto__') throw new DeltaError('a patch may not name __proto__');
    if (Array.isArray(change) && change.length === 0) delete result[key];
    else result[key] = apply(result[key], change);
  }
  return result;
}
