import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { alertsApi } from '../../api/alerts';
import type { MatcherLabel, Silence } from '../../types/alerts';
import { parseDuration } from '../../utils/ruleForm';
import { Panel } from '../SystemMonitor/Panel';
import { ActionError, describeActionError } from './ActionError';
import { formatTime } from './format';
import { TableScroll } from '../layout/TableScroll';

const LABELS: readonly MatcherLabel[] = ['rule_id', 'rule', 'metric', 'severity', 'gpu', 'instance'];

function SilenceForm({ onCreated }: { onCreated: () => Promise<void> }) {
  const [label, setLabel] = useState<MatcherLabel>('rule_id');
  const [value, setValue] = useState('');
  const [duration, setDuration] = useState('1h');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const seconds = parseDuration(duration);
    if (!value.trim()) return setError('Say what to silence: a value for the label');
    if (seconds === null || seconds <= 0) return setError('Duration: e.g. 30m, 2h or 1d');
    setError(null);
    try {
      await alertsApi.createSilence({
        matchers: [{ label, value: value.trim(), regex: false }],
        starts_at: null,
        ends_at: Date.now() / 1000 + seconds,
        comment,
      });
      setValue('');
      setComment('');
      await onCreated();
    } catch (failure) {
      setError(describeActionError(failure));
    }
  };

  return (
    <form className="filters" onSubmit={(event) => void submit(event)} data-testid="silence-form">
      <label>
        Match{' '}
        <select value={label} onChange={(event) => setLabel(event.target.value as MatcherLabel)}>
          {LABELS.map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>
      </label>
      <label>
        = <input value={value} onChange={(event) => setValue(event.target.value)} placeholder="e.g. gpu-temperature-high" />
      </label>
      <label>
        For <input value={duration} size={5} onChange={(event) => setDuration(event.target.value)} />
      </label>
      <label>
        Comment <input value={comment} onChange={(event) => setComment(event.target.value)} />
      </label>
      <button type="submit" className="btn btn-small btn-primary">
        Silence
      </button>
      <ActionError error={error} />
    </form>
  );
}

export function SilencesPanel({ canEdit }: { canEdit: boolean }) {
  const [silences, setSilences] = useState<Silence[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setSilences(await alertsApi.silences());
      setError(null);
    } catch (failure) {
      setError(describeActionError(failure));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (id: string) => {
    try {
      await alertsApi.deleteSilence(id);
      await load();
    } catch (failure) {
      setError(describeActionError(failure));
    }
  };

  return (
    <Panel level={2} title={`Silences (${silences.length})`} testId="alert-silences">
      <p className="muted">A silence mutes notifications of matching alerts; their transitions are still recorded.</p>
      {canEdit && <SilenceForm onCreated={load} />}
      <ActionError error={error} />
      {silences.length > 0 && (
        <TableScroll label="Silences">
          <table>
            <thead>
              <tr>
                <th scope="col">Matches</th>
                <th scope="col">Until</th>
                <th scope="col">Comment</th>
                <th scope="col">By</th>
                {canEdit && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {silences.map((silence) => (
                <tr key={silence.id} data-testid="silence-row">
                  <td className="mono">
                    {silence.matchers.map((m) => `${m.label}${m.regex ? '=~' : '='}${m.value}`).join(', ')}
                  </td>
                  <td>{formatTime(silence.ends_at)}</td>
                  <td>{silence.comment}</td>
                  <td>{silence.created_by ?? '—'}</td>
                  {canEdit && (
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => void remove(silence.id)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Panel>
  );
}
