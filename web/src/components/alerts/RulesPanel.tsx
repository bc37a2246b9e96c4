import { useCallback, useEffect, useState } from 'react';
import { alertsApi } from '../../api/alerts';
import { useMetricCatalogue } from '../../stores/metricCatalogue';
import { SEVERITIES, type AlertMetric, type AlertRule, type RuleInput } from '../../types/alerts';
import { formatDuration } from '../../utils/ruleForm';
import { Panel } from '../SystemMonitor/Panel';
import { ActionError, describeActionError } from './ActionError';
import { RuleEditor } from './RuleEditor';
import { SeverityBadge } from './format';
import { SortableHeader, sortRows, useSort, type SortColumn } from '../layout/SortableTable';
import { TableScroll } from '../layout/TableScroll';

type Editing = { rule: AlertRule | null } | null;

function describeScope(rule: AlertRule): string {
  if (rule.scope === 'host') return 'Host';
  return rule.gpu_id === null ? 'Every GPU' : `GPU ${rule.gpu_id}`;
}

type RuleKey = 'name' | 'metric' | 'for_s' | 'severity' | 'scope' | 'enabled';

const RULE_COLUMNS: SortColumn<RuleKey>[] = [
  { key: 'name', label: 'Rule', numeric: false },
  { key: 'metric', label: 'Condition', numeric: false },
  { key: 'for_s', label: 'For', numeric: true },
  { key: 'severity', label: 'Severity', numeric: true },
  { key: 'scope', label: 'Scope', numeric: false },
  { key: 'enabled', label: 'Enabled', numeric: true },
];

function ruleValue(rule: AlertRule, key: RuleKey): unknown {
  if (key === 'severity') return SEVERITIES.indexOf(rule.severity);
  if (key === 'enabled') return rule.enabled ? 1 : 0;
  if (key === 'scope') return describeScope(rule);
  return rule[key];
}

export function RulesPanel({ canEdit }: { canEdit: boolean }) {
  const { sort, sortBy } = useSort<RuleKey>({ key: 'name', direction: 'ascending' });
  const [rules, setRules] = useState<AlertRule[]>([]);
  const [metrics, setMetrics] = useState<AlertMetric[]>([]);
  const [channelNames, setChannelNames] = useState<string[]>([]);
  const [editing, setEditing] = useState<Editing>(null);
  const [error, setError] = useState<string | null>(null);
  const [editorError, setEditorError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [ruleList, metricList] = await Promise.all([alertsApi.rules(), alertsApi.metrics()]);
      setRules(ruleList);
      setMetrics(metricList);
      setError(null);
    } catch (failure) {
      setError(describeActionError(failure));
    }
    alertsApi.channels().then(
      (channels) => setChannelNames(channels.map((channel) => channel.name)),
      () => setChannelNames([]),
    );
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // A built-in rule's levels are the dashboard's colours: after any rule change read them again.
  const changed = async () => {
    await load();
    void useMetricCatalogue.getState().reload();
  };

  const act = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
      await changed();
    } catch (failure) {
      setError(describeActionError(failure));
    }
  };

  const save = async (rule: RuleInput) => {
    setEditorError(null);
    try {
      if (editing?.rule) await alertsApi.replaceRule(editing.rule.id, rule);
      else await alertsApi.createRule(rule);
      setEditing(null);
      await changed();
    } catch (failure) {
      setEditorError(describeActionError(failure));
    }
  };

  const openEditor = (rule: AlertRule | null) => {
    setEditorError(null);
    setEditing({ rule });
  };

  return (
    <Panel
      level={2}
      title={`Rules (${rules.length})`}
      testId="alert-rules"
      actions={
        canEdit && (
          <button type="button" className="btn btn-small btn-primary" onClick={() => openEditor(null)} data-testid="new-rule">
            New rule
          </button>
        )
      }
    >
      {!canEdit && <p className="muted">Sign in as an admin to create, change or delete rules.</p>}
      <ActionError error={error} />
      {editing && (
        <RuleEditor
          key={editing.rule?.id ?? 'new'}
          rule={editing.rule}
          metrics={metrics}
          channelNames={channelNames}
          onSave={save}
          onCancel={() => setEditing(null)}
          error={editorError}
        />
      )}
      <TableScroll label="Alert rules">
        <table>
          <thead>
            <tr>
              {RULE_COLUMNS.map((column) => (
                <SortableHeader key={column.key} column={column} sort={sort} onSort={sortBy} />
              ))}
              {canEdit && (
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {sortRows(rules, ruleValue, sort).map((rule) => (
              <tr key={rule.id} data-testid="rule-row" data-rule-id={rule.id}>
                <td>
                  <div>{rule.name}</div>
                  <div className="faint mono">{rule.id}</div>
                </td>
                <td className="mono">
                  {rule.metric} {rule.condition} {rule.threshold}
                  {rule.clear_threshold !== null && <span className="faint"> (clears at {rule.clear_threshold})</span>}
                </td>
                <td>{formatDuration(rule.for_s)}</td>
                <td>
                  <SeverityBadge severity={rule.severity} />
                </td>
                <td>{describeScope(rule)}</td>
                <td>
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={rule.enabled}
                      disabled={!canEdit}
                      onChange={(event) => void act(() => alertsApi.setRuleEnabled(rule.id, event.target.checked))}
                      aria-label={`${rule.name} enabled`}
                    />
                  </label>
                </td>
                {canEdit && (
                  <td>
                    <span className="row-actions">
                    <button type="button" className="btn btn-small" onClick={() => openEditor(rule)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => {
                        if (window.confirm(`Delete the rule "${rule.name}"?`)) void act(() => alertsApi.deleteRule(rule.id));
                      }}
                    >
                      Delete
                    </button>
                    </span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </Panel>
  );
}
