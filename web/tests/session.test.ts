import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, getJson, setAuthHooks } from '../src/api/client';
import {
  REFRESH_MARGIN_MS,
  SESSION_KEY,
  connectSession,
  createSessionStore,
  type Identity,
  type SessionApi,
  type TokenResponse,
} from '../src/auth/session';
import { memoryStorage } from './fixtures';

function tokens(name: string, expiresIn = 3600): TokenResponse {
  return {
    access_token: `access-${name}`,
    refresh_token: `refresh-${name}`,
    expires_in: expiresIn,
    refresh_expires_in: 86400,
    username: 'alice',
    role: 'admin',
  };
}

const ANONYMOUS: Identity = { username: null, role: 'viewer', anonymous: true, anonymous_read: true };
const unauthorized = () => new ApiError('Authentication required', 401, 'not_authenticated');

function fakeApi(overrides: Partial<SessionApi> = {}): SessionApi {
  return {
    me: vi.fn(async () => ANONYMOUS),
    login: vi.fn(async () => tokens('1')),
    refresh: vi.fn(async () => tokens('2')),
    ...overrides,
  };
}

describe('session', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    setAuthHooks(null);
  });

  it('opens anonymously where reads are open, and a login keeps both tokens', async () => {
    const storage = memoryStorage();
    const store = createSessionStore({ api: fakeApi(), storage });
    await store.getState().init();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().identity?.anonymous).toBe(true);

    expect(await store.getState().login('alice', 'pw')).toBe(true);
    expect(store.getState().tokens?.accessToken).toBe('access-1');
    expect(store.getState().identity).toMatchObject({ username: 'alice', role: 'admin', anonymous_read: true });
    expect(JSON.parse(storage.data.get(SESSION_KEY) ?? '{}').refreshToken).toBe('refresh-1');
  });

  it('shows the login page on 401 and keeps the server message when a login fails', async () => {
    const api = fakeApi({
      me: vi.fn(async () => {
        throw unauthorized();
      }),
      login: vi.fn(async () => {
        throw new ApiError('Wrong user name or password', 401, 'invalid_credentials');
      }),
    });
    const store = createSessionStore({ api, storage: memoryStorage() });
    await store.getState().init();
    expect(store.getState().status).toBe('login');
    expect(await store.getState().login('alice', 'nope')).toBe(false);
    expect(store.getState().loginError).toBe('Wrong user name or password');
    expect(store.getState().status).toBe('login');
  });

  it('takes the tokens another tab refreshed instead of spending the same refresh token twice', async () => {
    const api = fakeApi();
    const storage = memoryStorage();
    const store = createSessionStore({ api, storage, now: () => Date.now() });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    const otherTab = {
      ...JSON.parse(storage.data.get(SESSION_KEY) ?? '{}'),
      accessToken: 'access-tab2',
      refreshToken: 'refresh-tab2',
    };
    storage.setItem(SESSION_KEY, JSON.stringify(otherTab));
    expect(await store.getState().refresh()).toBe(true);
    expect(api.refresh).not.toHaveBeenCalled();
    expect(store.getState().tokens?.accessToken).toBe('access-tab2');
    expect(await store.getState().refresh()).toBe(true); // now its own token again: a real refresh
    expect(api.refresh).toHaveBeenCalledWith('refresh-tab2');
  });

  it('refreshes the access token a minute before it expires', async () => {
    const api = fakeApi();
    const store = createSessionStore({ api, storage: memoryStorage(), now: () => Date.now() });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(3600_000 - REFRESH_MARGIN_MS - 1000);
    expect(api.refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2000);
    expect(api.refresh).toHaveBeenCalledWith('refresh-1');
    expect(store.getState().tokens?.accessToken).toBe('access-2');
  });

  it('signs out when the refresh token is refused: to the login page without anonymous reads', async () => {
    const api = fakeApi({
      me: vi.fn(async () => {
        throw unauthorized();
      }),
      refresh: vi.fn(async () => {
        throw new ApiError('Token expired', 401, 'invalid_token');
      }),
    });
    const storage = memoryStorage();
    const store = createSessionStore({ api, storage });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    expect(await store.getState().refresh()).toBe(false);
    expect(store.getState().status).toBe('login');
    expect(store.getState().tokens).toBeNull();
    expect(store.getState().loginError).toMatch(/expired/);
    expect(storage.data.has(SESSION_KEY)).toBe(false);
  });

  it('logout with anonymous reads returns to the anonymous dashboard', async () => {
    const store = createSessionStore({ api: fakeApi(), storage: memoryStorage() });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    store.getState().logout();
    expect(store.getState()).toMatchObject({ status: 'ready', tokens: null });
    expect(store.getState().identity?.anonymous).toBe(true);
  });

  it('a stored token the server refuses is dropped and the app asks again anonymously', async () => {
    const storage = memoryStorage();
    storage.setItem(
      SESSION_KEY,
      JSON.stringify({ accessToken: 'old', refreshToken: 'old-r', accessExpiresAt: 0, refreshExpiresAt: Date.now() + 1e6, username: 'alice', role: 'admin' }),
    );
    let calls = 0;
    const api = fakeApi({
      me: vi.fn(async () => {
        calls += 1;
        if (calls === 1) throw unauthorized();
        return ANONYMOUS;
      }),
      refresh: vi.fn(async () => {
        throw unauthorized();
      }),
    });
    const store = createSessionStore({ api, storage });
    await store.getState().init();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().tokens).toBeNull();
  });
});

describe('requests with a session', () => {
  afterEach(() => setAuthHooks(null));

  function respond(status: number, body: unknown) {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  }

  it('send the bearer token, refresh once on 401 and retry with the new one', async () => {
    const store = createSessionStore({ api: fakeApi(), storage: memoryStorage() });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    connectSession(store);
    const seen: (string | null)[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: RequestInit) => {
        const auth = (init.headers as Record<string, string>).Authorization ?? null;
        seen.push(auth);
        return auth === 'Bearer access-2' ? respond(200, { ok: true }) : respond(401, { detail: 'Token expired' });
      }),
    );
    expect(await getJson('/system/gpus')).toEqual({ ok: true });
    expect(seen).toEqual(['Bearer access-1', 'Bearer access-2']);
    vi.unstubAllGlobals();
  });

  it('a 401 that a refresh cannot cure sends the user to the login page', async () => {
    const api = fakeApi({
      me: vi.fn(async () => {
        throw unauthorized();
      }),
      refresh: vi.fn(async () => {
        throw unauthorized();
      }),
    });
    const store = createSessionStore({ api, storage: memoryStorage() });
    await store.getState().init();
    await store.getState().login('alice', 'pw');
    connectSession(store);
    vi.stubGlobal('fetch', vi.fn(async () => respond(401, { detail: 'Token expired', error: 'invalid_token' })));
    await expect(getJson('/system/gpus')).rejects.toMatchObject({ status: 401 });
    expect(store.getState().status).toBe('login');
    vi.unstubAllGlobals();
  });
});
