/**
 * Who the dashboard acts as: anonymous (where the service allows anonymous reads) or a signed-in user.
 *
 * Tokens live in localStorage so a reload keeps the user signed in; the access token is refreshed a
 * minute before it expires, and a 401 that a refresh cannot cure signs the user out.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { ApiError, getJson, sendJson, setAuthHooks } from '../api/client';

export type Role = 'viewer' | 'admin';

/** `checking`: asking the server; `login`: it wants a token we do not have; `ready`: the app may run. */
export type SessionStatus = 'checking' | 'login' | 'ready';

export interface Identity {
  username: string | null;
  role: Role;
  anonymous: boolean;
  anonymous_read: boolean;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
  username: string;
  role: Role;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  accessExpiresAt: number;
  refreshExpiresAt: number;
  username: string;
  role: Role;
}

export interface SessionApi {
  me(): Promise<Identity>;
  login(username: string, password: string): Promise<TokenResponse>;
  refresh(refreshToken: string): Promise<TokenResponse>;
}

export interface SessionState {
  status: SessionStatus;
  identity: Identity | null;
  tokens: StoredTokens | null;
  /** Why the login form is showing, or why the last login failed. */
  loginError: string | null;
  init: () => Promise<void>;
  login: (username: string, password: string) => Promise<boolean>;
  /** Buys a new token pair; false (and signed out) when the refresh token is no longer good. */
  refresh: () => Promise<boolean>;
  logout: (reason?: string) => void;
}

export const SESSION_KEY = 'gpu-sentinel.session';
/** Refresh this long before the access token expires, so no request goes out with a stale one. */
export const REFRESH_MARGIN_MS = 60_000;

export const sessionApi: SessionApi = {
  me: () => getJson('/auth/me'),
  login: (username, password) => sendJson('POST', '/auth/login', { username, password }),
  refresh: (refreshToken) => sendJson('POST', '/auth/refresh', { refresh_token: refreshToken }),
};

interface SessionDeps {
  api?: SessionApi;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  now?: () => number;
}

function toStored(response: TokenResponse, now: number): StoredTokens {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    accessExpiresAt: now + response.expires_in * 1000,
    refreshExpiresAt: now + response.refresh_expires_in * 1000,
    username: response.username,
    role: response.role,
  };
}

/** Runs `task` while no other tab of this browser refreshes (Web Locks), or at once where there are none. */
function acrossTabs(task: () => Promise<boolean>): Promise<boolean> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? locks.request('gpu-sentinel.refresh', task).then((granted) => granted) : task();
}

function load(storage: SessionDeps['storage'], now: number): StoredTokens | null {
  try {
    const tokens = JSON.parse(storage?.getItem(SESSION_KEY) ?? 'null') as StoredTokens | null;
    return tokens && tokens.refreshExpiresAt > now ? tokens : null;
  } catch {
    return null;
  }
}

export function createSessionStore(deps: SessionDeps = {}): UseBoundStore<StoreApi<SessionState>> {
  const api = deps.api ?? sessionApi;
  const storage = deps.storage ?? (typeof localStorage !== 'undefined' ? localStorage : undefined);
  const now = deps.now ?? Date.now;
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  let refreshing: Promise<boolean> | null = null;

  return create<SessionState>()((set, get) => {
    const save = (tokens: StoredTokens | null) => {
      if (tokens) storage?.setItem(SESSION_KEY, JSON.stringify(tokens));
      else storage?.removeItem(SESSION_KEY);
      set({ tokens });
      if (refreshTimer !== null) clearTimeout(refreshTimer);
      refreshTimer = null;
      if (tokens) {
        const delay = Math.max(0, tokens.accessExpiresAt - REFRESH_MARGIN_MS - now());
        refreshTimer = setTimeout(() => void get().refresh(), delay);
      }
    };

    const signedIn = (tokens: StoredTokens, anonymousRead: boolean): Identity => ({
      username: tokens.username,
      role: tokens.role,
      anonymous: false,
      anonymous_read: anonymousRead,
    });

    return {
      status: 'checking',
      identity: null,
      tokens: null,
      loginError: null,

      init: async () => {
        const stored = load(storage, now());
        if (stored) save(stored);
        set({ status: 'checking' });
        try {
          set({ identity: await api.me(), status: 'ready', loginError: null });
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 401)) {
            // The server is unreachable or failing: the dashboard shows that, as it does anonymously.
            set({ status: 'ready' });
            return;
          }
          // A stored token the server no longer takes: ask again as nobody, anonymous reads may be allowed.
          if (stored) {
            save(null);
            return get().init();
          }
          set({ identity: null, status: 'login' });
        }
      },

      login: async (username, password) => {
        try {
          const tokens = toStored(await api.login(username, password), now());
          save(tokens);
          const anonymousRead = get().identity?.anonymous_read ?? false;
          set({ identity: signedIn(tokens, anonymousRead), status: 'ready', loginError: null });
          return true;
        } catch (error) {
          set({ loginError: error instanceof Error ? error.message : 'Login failed' });
          return false;
        }
      },

      refresh: () => {
        // Concurrent 401s share one refresh: a refresh token is good for one exchange, and the server
        // ends the session when a spent one comes back.
        if (refreshing) return refreshing;
        const tokens = get().tokens;
        if (!tokens) return Promise.resolve(false);
        refreshing = acrossTabs(async () => {
          try {
            // Another tab may have spent our refresh token already: then its tokens are in storage.
            const stored = load(storage, now());
            const fresh =
              stored && stored.refreshToken !== tokens.refreshToken
                ? stored
                : toStored(await api.refresh(tokens.refreshToken), now());
            save(fresh);
            const anonymousRead = get().identity?.anonymous_read ?? false;
            set({ identity: signedIn(fresh, anonymousRead) });
            return true;
          } catch (error) {
            if (error instanceof ApiError && error.status !== null && error.status < 500) {
              get().logout('Your session expired. Sign in again.');
            }
            return false;
          }
        }).finally(() => {
          refreshing = null;
        });
        return refreshing;
      },

      logout: (reason) => {
        save(null);
        const anonymousRead = get().identity?.anonymous_read ?? false;
        set({
          identity: anonymousRead ? { username: null, role: 'viewer', anonymous: true, anonymous_read: true } : null,
          status: anonymousRead ? 'ready' : 'login',
          loginError: reason ?? null,
        });
      },
    };
  });
}

export const useSession = createSessionStore();

/** Wire a session store into every API request: its token, its refresh, and sign-out on a final 401. */
export function connectSession(store: UseBoundStore<StoreApi<SessionState>> = useSession): void {
  setAuthHooks({
    token: () => store.getState().tokens?.accessToken ?? null,
    recover: () => store.getState().refresh(),
    unauthorized: () => {
      const { status, identity, tokens } = store.getState();
      // Anonymous reads allowed and nobody signed in: a 401/403 on a change is shown where it happened.
      if (status === 'ready' && identity?.anonymous_read && !tokens) return;
      if (status !== 'login') store.getState().logout('Sign in to continue.');
    },
  });
}

export function isAdmin(identity: Identity | null): boolean {
  return identity?.role === 'admin' && !identity.anonymous;
}
