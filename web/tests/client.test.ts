import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, getJson, sendJson } from '../src/api/client';

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

const limited = () => answer(429, { error: 'rate_limited', detail: 'Rate limit exceeded' }, { 'Retry-After': '2' });

describe('rate-limited requests', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('retries a read after the wait the server names', async () => {
    const fetchMock = vi.fn().mockResolvedValueOnce(limited()).mockResolvedValueOnce(answer(200, { ok: 1 }));
    vi.stubGlobal('fetch', fetchMock);
    const pending = getJson<{ ok: number }>('/system/gpus');
    await vi.advanceTimersByTimeAsync(1999);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(pending).resolves.toEqual({ ok: 1 });
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('gives up after two retries and never repeats a change', async () => {
    const fetchMock = vi.fn(async () => limited());
    vi.stubGlobal('fetch', fetchMock);
    const read = getJson('/system/gpus').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await read;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).retryAfterS).toBe(2);
    expect(fetchMock).toHaveBeenCalledTimes(3);

    fetchMock.mockClear();
    await expect(sendJson('POST', '/alerts/rules', { id: 'x' })).rejects.toMatchObject({ status: 429 });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
