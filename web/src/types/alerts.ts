/** Shapes of the alerts API (`/api/v1/alerts/...`). */

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertCondition = '>' | '>=' | '<' | '<=' | '==' | '!=';
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

export interface AlertRule {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  metric: string;
  condition: AlertCondition;
  threshold: number;
  clear_threshold: number | null;
  for_s: number;
  keep_firing_for_s: number;
  severity: AlertSeverity;
  gpu_id: number | null;
  channels: string[] | null;
  cooldown_s: number | null;
  repeat_interval_s: number | null;
  builtin: boolean;
  scope: RuleScope;
}

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
  limit: number;
  offset: number;
}

export type MatcherLabel = 'rule_id' | 'rule' | 'metric' | 'severity' | 'gpu' | 'instance';

export interface SilenceMatcher {
  label: MatcherLabel;
  value: string;
  regex: boolean;
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  starts_at: number | null;
  ends_at: number;
  comment: string;
  created_by: string | null;
}

export interface AlertChannel {
  name: string;
  type: string;
  enabled: boolean;
}
