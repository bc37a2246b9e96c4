import type { components } from '../types/api.gen';
import { getJson, sendJson } from './client';

export type ServerPreferences = components['schemas']['PreferencesOut'];
export type ServerLayout = components['schemas']['DashboardLayout'];

const PATH = '/users/me/preferences';

/** The signed-in user's own preferences on the server (401 without a token). */
export const preferencesApi = {
  get: (): Promise<ServerPreferences> => getJson(PATH),
  put: (layout: ServerLayout): Promise<ServerPreferences> => sendJson('PUT', PATH, { layout }),
};
