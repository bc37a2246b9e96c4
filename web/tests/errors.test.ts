import { describe, expect, it, vi } from 'vitest';
import { ApiError, getJson } from '../src/api/client';
import { classifyError } from '../src/utils/errors';

describe('classifyError (spec 003 §8.1)', () => {
  it('no response is a connection error', () => {
    expect(classifyError(new ApiError('down', null))).toBe('connection');
    expect(classifyError(new TypeError('Failed to fetch'))).toBe('connection');
  });
  it('503 means the GPU is unavailable', () => {
    expect(classifyError(new ApiError('no gpu', 503, 'gpu_unavailable'))).toBe('gpu');
  });
  it('other 5xx are API errors', () => {
    expect(classifyError(new ApiError('boom', 500))).toBe('api');
    expect(classifyError(new ApiError('bad gateway', 502))).toBe('api');
  });
  it('everything else is general', () => {
    expect(classifyError(new ApiError('Invalid GPU ID 9', 400, 'invalid_gpu_id'))).toBe('general');
    expect(classifyError(new Error('odd'))).toBe('general');
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
    expect(classifyError(error)).toBe('connection');
    vi.unstubAllGlobals();
  });
});
