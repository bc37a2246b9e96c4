/**
 * Shapes of the alerts API (`/api/v1/alerts/...`). Rules, silences and their parts are aliases of the types
 * generated from the OpenAPI schema; the routes that answer with plain objects (active alerts, history,
 * channels) are described here until the server declares response models for them.
 */
import type { components } from './api.gen';

type Schemas = components['schemas'];

export type AlertSeverity = Schemas['RuleSpec']['severity'];
export type AlertCondition = Schemas['RuleSpec']['condition'];
export type AlertState = 'pending' | 'firing' | 'resolved' | 'inactive';
export type RuleScope = 'host' | 'gpu' | 'all_gpus';

export const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];
export const CONDITIONS: readonly AlertCondition[] = ['>', '>=', '<', '<=', '==', '!='];

export interface AlertMetric {
  name: string;
  scope: 'gpu' | 'host';
  unit: string;
  help: string;
  event: boolean;
}

/** A rule as the server returns it: every field filled in, plus where it applies. */
export type AlertRule = Required<Schemas['RuleSpec']> & { scope: RuleScope };

/** What the editor sends: the rule without the fields the server owns. */
export type RuleInput = Omit<AlertRule, 'builtin' | 'scope'>;

export interface ActiveAlert {
  id: string;
  rule_id: string;
  rule_name: string;
  metric: string;
  unit: string;
  severity: AlertSeverity;
  instance: string;
  gpu_id: number | null;
  state: AlertState;
  value: number | null;
  threshold: number;
  condition: AlertCondition;
  active_since: string | null;
  fired_at: string | null;
  acknowledged: boolean;
  acknowledged_by: string | null;
  silenced: boolean;
  /** Set on an alert a hub lists for the fleet: the node it is about. */
  node?: string;
  /** On a hub's fleet list: a fleet rule's alert, or a node's own (acknowledged on that node). */
  source?: 'fleet' | 'node';
}

export interface AlertDelivery {
  channel: string;
  status: string;
  attempts?: number;
  last_error?: string | null;
}

export interface AlertHistoryItem {
  id: string;
  alert_id: string;
  rule_id: string;
  rule_name: string;
  metric: string;
  gpu_id: number | null;
  instance: string;
  severity: AlertSeverity;
  state: AlertState;
  previous: AlertState;
  kind: string;
  value: number | null;
  threshold: number;
  /** Unix seconds. */
  ts: number;
  summary: string;
  suppressed: string | null;
  deliveries: AlertDelivery[];
}

export interface AlertHistoryPage {
  items: AlertHistoryItem[];
  total: number;
  limit: number;
  offset: number;
}

export interface HistoryQuery {
  rule_id?: string;
  gpu_id?: number;
  severity?: AlertSeverity;
  state?: AlertState;
  /** Unix seconds: transitions from then on. */
  start?: number;
  limit: number;
  offset: number;
}

export type MatcherLabel = Schemas['Matcher']['label'];
export type SilenceMatcher = Required<Schemas['Matcher']>;
export type Silence = Required<Omit<Schemas['SilenceSpec'], 'matchers'>> & { matchers: SilenceMatcher[] };

export interface AlertChannel {
  name: string;
  type: string;
  enabled: boolean;
}
