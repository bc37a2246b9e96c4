import { getJson, sendJson } from './client';
import type {
  ActiveAlert,
  AlertChannel,
  AlertHistoryPage,
  AlertMetric,
  AlertRule,
  HistoryQuery,
  RuleInput,
  Silence,
} from '../types/alerts';

const ROOT = '/alerts';

function historyParams(query: HistoryQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  return params.toString();
}

/** The alerts API; every change needs an admin token and fails with the server's 401/403 detail otherwise. */
export const alertsApi = {
  active: async (): Promise<ActiveAlert[]> => (await getJson<{ alerts: ActiveAlert[] }>(ROOT)).alerts,
  acknowledge: (alertId: string): Promise<ActiveAlert> =>
    sendJson('POST', `${ROOT}/${encodeURIComponent(alertId)}/ack`, {}),
  history: (query: HistoryQuery): Promise<AlertHistoryPage> => getJson(`${ROOT}/history?${historyParams(query)}`),
  metrics: (): Promise<AlertMetric[]> => getJson(`${ROOT}/metrics`),
  rules: (): Promise<AlertRule[]> => getJson(`${ROOT}/rules`),
  createRule: (rule: RuleInput): Promise<AlertRule> => sendJson('POST', `${ROOT}/rules`, rule),
  replaceRule: (id: string, rule: RuleInput): Promise<AlertRule> =>
    sendJson('PUT', `${ROOT}/rules/${encodeURIComponent(id)}`, rule),
  setRuleEnabled: (id: string, enabled: boolean): Promise<AlertRule> =>
    sendJson('PATCH', `${ROOT}/rules/${encodeURIComponent(id)}`, { enabled }),
  deleteRule: (id: string): Promise<void> => sendJson('DELETE', `${ROOT}/rules/${encodeURIComponent(id)}`),
  channels: (): Promise<AlertChannel[]> => getJson(`${ROOT}/channels`),
  silences: (): Promise<Silence[]> => getJson(`${ROOT}/silences`),
  createSilence: (silence: Omit<Silence, 'id' | 'created_by'>): Promise<Silence> =>
    sendJson('POST', `${ROOT}/silences`, silence),
  deleteSilence: (id: string): Promise<void> => sendJson('DELETE', `${ROOT}/silences/${encodeURIComponent(id)}`),
};
