import { describe, expect, it } from 'vitest';
import type { AlertMetric, AlertRule } from '../src/types/alerts';
import {
  EMPTY_RULE_FORM,
  formFromRule,
  formatDuration,
  parseDuration,
  slugify,
  validateRuleForm,
  type RuleForm,
} from '../src/utils/ruleForm';

const METRICS: AlertMetric[] = [
  { name: 'gpu.temperature_c', scope: 'gpu', unit: '°C', help: 'GPU core temperature', event: false },
  { name: 'host.cpu_pct', scope: 'host', unit: '%', help: 'Host CPU', event: false },
];

function form(overrides: Partial<RuleForm>): RuleForm {
  return { ...EMPTY_RULE_FORM, name: 'GPU hot', threshold: '85', ...overrides };
}

describe('rule form', () => {
  it('turns a valid form into the API rule', () => {
    const result = validateRuleForm(
      form({ clearThreshold: '80', forDuration: '2m', gpuId: '1', channels: 'ops, chat', cooldown: '1h' }),
      METRICS,
    );
    expect(result).toEqual({
      ok: true,
      rule: expect.objectContaining({
        id: 'gpu-hot',
        name: 'GPU hot',
        threshold: 85,
        clear_threshold: 80,
        for_s: 120,
        gpu_id: 1,
        channels: ['ops', 'chat'],
        cooldown_s: 3600,
        repeat_interval_s: null,
      }),
    });
  });

  it('refuses what the server would refuse, field by field', () => {
    const result = validateRuleForm(
      form({ name: ' ', threshold: 'hot', forDuration: '5 minutes', id: 'Bad Id', channels: 'ops, bad name' }),
      METRICS,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['channels', 'forDuration', 'id', 'name', 'threshold']);
  });

  it('checks the clear threshold against the condition', () => {
    const above = validateRuleForm(form({ condition: '>', clearThreshold: '90' }), METRICS);
    expect(above.ok ? null : above.errors.clearThreshold).toMatch(/at or below/i);
    const below = validateRuleForm(form({ condition: '<', threshold: '10', clearThreshold: '5' }), METRICS);
    expect(below.ok ? null : below.errors.clearThreshold).toMatch(/at or above/i);
    const equal = validateRuleForm(form({ condition: '==', clearThreshold: '5' }), METRICS);
    expect(equal.ok).toBe(false);
  });

  it('refuses one GPU for a host metric, an unknown metric and durations over 30 days', () => {
    const host = validateRuleForm(form({ metric: 'host.cpu_pct', gpuId: '0' }), METRICS);
    expect(host.ok ? null : host.errors.gpuId).toBeTruthy();
    const unknown = validateRuleForm(form({ metric: 'gpu.magic' }), METRICS);
    expect(unknown.ok ? null : unknown.errors.metric).toBeTruthy();
    const long = validateRuleForm(form({ repeatInterval: '31d' }), METRICS);
    expect(long.ok ? null : long.errors.repeatInterval).toMatch(/30 days/);
  });

  it('round-trips a rule through the form', () => {
    const rule: AlertRule = {
      id: 'hot',
      name: 'Hot',
      description: '',
      enabled: false,
      metric: 'gpu.temperature_c',
      condition: '>=',
      threshold: 83,
      clear_threshold: 78,
      for_s: 120,
      keep_firing_for_s: 0,
      severity: 'critical',
      gpu_id: null,
      channels: null,
      cooldown_s: null,
      repeat_interval_s: 3600,
      builtin: false,
      scope: 'all_gpus',
    };
    const result = validateRuleForm(formFromRule(rule), METRICS);
    const { builtin: _builtin, scope: _scope, ...input } = rule;
    expect(result).toEqual({ ok: true, rule: input });
  });

  it('reads and writes durations the way the server does', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1.5h')).toBe(5400);
    expect(parseDuration('250ms')).toBe(0.25);
    expect(parseDuration('soon')).toBeNull();
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(86400)).toBe('1d');
    expect(formatDuration(90)).toBe('90s');
    expect(slugify('GPU memory > 95 %!')).toBe('gpu-memory-95');
  });
});
