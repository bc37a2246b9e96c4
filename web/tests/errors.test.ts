import { describe, expect, it, vi } from 'vitest';
import { ApiError, getJson } from '../src/api/client';
import { failureCause } from '../src/stores/connection';

describe('failureCause: what the banner names', () => {
  it('no response means the server is unreachable', () => {
    expect(failureCause(new ApiError('down', null))).toBe('unreachable');
    expect(failureCause(new TypeError('Failed to fetch'))).toBe('unreachable');
  });
  it('a 503 about the GPUs means GPU monitoring is unavailable, any other means a server error', () => {
    expect(failureCause(new ApiError('no gpu', 503, 'gpu_unavailable'))).toBe('gpu');
    expect(failureCause(new ApiError('starting', 503, 'not_ready'))).toBe('server');
    expect(failureCause(new ApiError('boom', 500))).toBe('server');
    expect(failureCause(new ApiError('bad gateway', 502))).toBe('server');
  });
  it('401 and 403 mean signed out', () => {
    expect(failureCause(new ApiError('expired', 401))).toBe('signed-out');
    expect(failureCause(new ApiError('forbidden', 403))).toBe('signed-out');
  });
});

describe('api client', () => {
  it('carries the server detail and error code', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        new Response(JSON.stringify({ detail: 'Invalid GPU ID 9', error: 'invalid_gpu_id', timestamp: 'x' }), {
          status: 400,
        }),
      ),
    );
    await expect(getJson('/system/gpu-metrics?gpu_id=9')).rejects.toMatchObject({
      message: 'Invalid GPU ID 9',
      status: 400,
      code: 'invalid_gpu_id',
    });
    vi.unstubAllGlobals();
  });
  it('turns a network failure into a connection error', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    const error = await getJson('/health').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(failureCause(error)).toBe('unreachable');
    vi.unstubAllGlobals();
  });
});
