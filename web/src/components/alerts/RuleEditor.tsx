import { useState, type FormEvent, type ReactNode } from 'react';
import { CONDITIONS, SEVERITIES, type AlertMetric, type AlertRule, type RuleInput } from '../../types/alerts';
import {
  EMPTY_RULE_FORM,
  formFromRule,
  validateRuleForm,
  type RuleForm,
  type RuleFormErrors,
} from '../../utils/ruleForm';
import { ActionError } from './ActionError';

interface RuleEditorProps {
  /** The rule being edited; null for a new one. */
  rule: AlertRule | null;
  metrics: AlertMetric[];
  channelNames: string[];
  onSave: (rule: RuleInput) => Promise<void>;
  onCancel: () => void;
  error: string | null;
}

interface FieldProps {
  id: keyof RuleForm;
  label: string;
  errors: RuleFormErrors;
  hint?: string;
  children: ReactNode;
}

function Field({ id, label, errors, hint, children }: FieldProps) {
  const error = errors[id];
  return (
    <div className="form-field">
      <label htmlFor={`rule-${id}`}>{label}</label>
      {children}
      {error ? (
        <span className="field-error" id={`rule-${id}-error`} data-testid={`rule-error-${id}`}>
          {error}
        </span>
      ) : (
        hint && <span className="faint field-hint">{hint}</span>
      )}
    </div>
  );
}

export function RuleEditor({ rule, metrics, channelNames, onSave, onCancel, error }: RuleEditorProps) {
  const [form, setForm] = useState<RuleForm>(() => (rule ? formFromRule(rule) : EMPTY_RULE_FORM));
  const [errors, setErrors] = useState<RuleFormErrors>({});
  const [saving, setSaving] = useState(false);
  const metric = metrics.find((candidate) => candidate.name === form.metric);

  const update = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) => setForm({ ...form, [key]: value });
  const text = (key: keyof RuleForm) => ({
    id: `rule-${key}`,
    value: String(form[key]),
    onChange: (event: { target: { value: string } }) => update(key, event.target.value as never),
    'aria-invalid': errors[key] ? true : undefined,
    'aria-describedby': errors[key] ? `rule-${key}-error` : undefined,
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = validateRuleForm(form, metrics);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      await onSave(parsed.rule);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="rule-editor" onSubmit={(event) => void submit(event)} noValidate data-testid="rule-editor">
      <h3>{rule ? `Edit rule ${rule.id}` : 'New rule'}</h3>
      <div className="form-grid">
        <Field id="name" label="Name" errors={errors}>
          <input {...text('name')} maxLength={120} autoFocus />
        </Field>
        <Field id="id" label="Identifier" errors={errors} hint={rule ? 'Fixed once created' : 'Empty: made from the name'}>
          <input {...text('id')} disabled={rule !== null} />
        </Field>
        <Field id="metric" label="Metric" errors={errors} hint={metric ? `${metric.help}${metric.unit ? ` (${metric.unit})` : ''}` : undefined}>
          <select {...text('metric')}>
            {metrics.map((candidate) => (
              <option key={candidate.name} value={candidate.name}>
                {candidate.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id="condition" label="Condition" errors={errors}>
          <select {...text('condition')}>
            {CONDITIONS.map((condition) => (
              <option key={condition} value={condition}>
                {condition}
              </option>
            ))}
          </select>
        </Field>
        <Field id="threshold" label="Threshold" errors={errors}>
          <input {...text('threshold')} inputMode="decimal" />
        </Field>
        <Field id="clearThreshold" label="Clear threshold" errors={errors} hint="Optional hysteresis">
          <input {...text('clearThreshold')} inputMode="decimal" />
        </Field>
        <Field id="forDuration" label="For" errors={errors} hint="Pending this long before firing">
          <input {...text('forDuration')} />
        </Field>
        <Field id="keepFiringFor" label="Keep firing for" errors={errors}>
          <input {...text('keepFiringFor')} />
        </Field>
        <Field id="severity" label="Severity" errors={errors}>
          <select {...text('severity')}>
            {SEVERITIES.map((severity) => (
              <option key={severity} value={severity}>
                {severity}
              </option>
            ))}
          </select>
        </Field>
        <Field id="gpuId" label="Scope" errors={errors}>
          <input {...text('gpuId')} placeholder={metric?.scope === 'host' ? 'host' : 'every GPU'} disabled={metric?.scope === 'host'} inputMode="numeric" />
        </Field>
        <Field id="channels" label="Channels" errors={errors} hint={channelNames.length > 0 ? `Empty: all of ${channelNames.join(', ')}` : 'Empty: every enabled channel'}>
          <input {...text('channels')} />
        </Field>
        <Field id="cooldown" label="Cooldown" errors={errors} hint="Empty: the service default">
          <input {...text('cooldown')} />
        </Field>
        <Field id="repeatInterval" label="Repeat every" errors={errors} hint="Empty: the service default; 0 never">
          <input {...text('repeatInterval')} />
        </Field>
        <Field id="description" label="Description" errors={errors}>
          <input {...text('description')} />
        </Field>
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={form.enabled} onChange={(event) => update('enabled', event.target.checked)} />
        Enabled
      </label>
      <ActionError error={error} />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="save-rule">
          {saving ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
