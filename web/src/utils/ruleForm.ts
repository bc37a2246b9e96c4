/**
 * The rule editor's form: text fields in, a rule for the API out. It refuses what the server would refuse
 * (same limits, same wording), so most mistakes are caught before a round trip.
 */
import type { AlertCondition, AlertMetric, AlertRule, AlertSeverity, RuleInput } from '../types/alerts';

export interface RuleForm {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  metric: string;
  condition: AlertCondition;
  threshold: string;
  clearThreshold: string;
  forDuration: string;
  keepFiringFor: string;
  severity: AlertSeverity;
  /** '' means every GPU. */
  gpuId: string;
  /** Comma-separated channel names; '' means every enabled channel. */
  channels: string;
  cooldown: string;
  repeatInterval: string;
}

export type RuleFormErrors = Partial<Record<keyof RuleForm, string>>;

export const SLUG = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const MAX_DURATION_S = 30 * 86400;

export const EMPTY_RULE_FORM: RuleForm = {
  id: '',
  name: '',
  description: '',
  enabled: true,
  metric: 'gpu.temperature_c',
  condition: '>',
  threshold: '',
  clearThreshold: '',
  forDuration: '0s',
  keepFiringFor: '0s',
  severity: 'warning',
  gpuId: '',
  channels: '',
  cooldown: '',
  repeatInterval: '',
};

/** Seconds from `90`, `90s`, `5m`, `1h` or `1d`; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1);
}

/** The shortest exact text for a number of seconds: 300 -> "5m". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A slug for a new rule's id, from its name. */
export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return slug || 'rule';
}

export function formFromRule(rule: AlertRule): RuleForm {
  return {
    id: rule.id,
    name: rule.name,
    description: rule.description,
    enabled: rule.enabled,
    metric: rule.metric,
    condition: rule.condition,
    threshold: String(rule.threshold),
    clearThreshold: rule.clear_threshold === null ? '' : String(rule.clear_threshold),
    forDuration: formatDuration(rule.for_s),
    keepFiringFor: formatDuration(rule.keep_firing_for_s),
    severity: rule.severity,
    gpuId: rule.gpu_id === null ? '' : String(rule.gpu_id),
    channels: (rule.channels ?? []).join(', '),
    cooldown: rule.cooldown_s === null ? '' : formatDuration(rule.cooldown_s),
    repeatInterval: rule.repeat_interval_s === null ? '' : formatDuration(rule.repeat_interval_s),
  };
}

function parseNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

type Parsed = { ok: true; rule: RuleInput } | { ok: false; errors: RuleFormErrors };

/** Checks the form against the metric catalogue; either a rule ready to send or an error per field. */
export function validateRuleForm(form: RuleForm, metrics: readonly AlertMetric[]): Parsed {
  const errors: RuleFormErrors = {};
  const id = form.id.trim() || slugify(form.name);
  if (!SLUG.test(id)) errors.id = 'Lower-case letters, digits, ".", "_" or "-", starting with a letter or digit';

  const name = form.name.trim();
  if (!name) errors.name = 'A rule needs a name';
  else if (name.length > 120) errors.name = 'At most 120 characters';
  if (form.description.length > 2000) errors.description = 'At most 2000 characters';

  const metric = metrics.find((candidate) => candidate.name === form.metric);
  if (!metric && metrics.length > 0) errors.metric = 'Choose a metric from the list';

  const threshold = parseNumber(form.threshold);
  if (threshold === null) errors.threshold = 'A number, e.g. 85';

  let clearThreshold: number | null = null;
  if (form.clearThreshold.trim() !== '') {
    clearThreshold = parseNumber(form.clearThreshold);
    if (clearThreshold === null) errors.clearThreshold = 'A number, or empty for none';
    else if (form.condition === '==' || form.condition === '!=')
      errors.clearThreshold = 'Needs one of the conditions >, >=, <, <=';
    else if (threshold !== null) {
      const above = form.condition === '>' || form.condition === '>=';
      if (above && clearThreshold > threshold) errors.clearThreshold = `At or below the threshold (${threshold})`;
      if (!above && clearThreshold < threshold) errors.clearThreshold = `At or above the threshold (${threshold})`;
    }
  }

  const duration = (field: 'forDuration' | 'keepFiringFor' | 'cooldown' | 'repeatInterval', optional: boolean) => {
    const text = form[field];
    if (optional && text.trim() === '') return null;
    const seconds = parseDuration(text);
    if (seconds === null) errors[field] = 'Seconds, or a number with ms, s, m, h or d (e.g. 90s, 5m)';
    else if (seconds > MAX_DURATION_S) errors[field] = 'At most 30 days';
    return seconds;
  };
  const forS = duration('forDuration', false);
  const keepFiringForS = duration('keepFiringFor', false);
  const cooldownS = duration('cooldown', true);
  const repeatIntervalS = duration('repeatInterval', true);

  let gpuId: number | null = null;
  if (form.gpuId.trim() !== '') {
    gpuId = parseNumber(form.gpuId);
    if (gpuId === null || !Number.isInteger(gpuId) || gpuId < 0) errors.gpuId = 'A GPU index, or every GPU';
    else if (metric?.scope === 'host') errors.gpuId = 'A host metric applies to the host, not one GPU';
  }

  const channelNames = form.channels
    .split(',')
    .map((channel) => channel.trim())
    .filter(Boolean);
  const badChannel = channelNames.find((channel) => !SLUG.test(channel));
  if (badChannel) errors.channels = `"${badChannel}" is not a channel name`;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    rule: {
      id,
      name,
      description: form.description,
      enabled: form.enabled,
      metric: form.metric,
      condition: form.condition,
      threshold: threshold ?? 0,
      clear_threshold: clearThreshold,
      for_s: forS ?? 0,
      keep_firing_for_s: keepFiringForS ?? 0,
      severity: form.severity,
      gpu_id: gpuId,
      channels: channelNames.length > 0 ? channelNames : null,
      cooldown_s: cooldownS,
      repeat_interval_s: repeatIntervalS,
    },
  };
}
