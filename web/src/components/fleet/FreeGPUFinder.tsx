import { useEffect, useState, type FormEvent } from 'react';
import { fleetApi, type FleetGPU } from '../../api/fleet';
import { FLEET_REFRESH_MS } from '../../stores/fleet';
import { nodePath } from '../../stores/urlState';
import { errorMessage } from '../../utils/errors';
import { Link } from '../layout/router';
import { TableScroll } from '../layout/TableScroll';
import { MetricValue } from '../SystemMonitor/MetricValue';
import { Panel } from '../SystemMonitor/Panel';

interface Criteria {
  minFreeGiB: number;
  model: string;
}

const MAX_FREE_GIB = 100_000;

/** The form's text as criteria, or what is wrong with it. */
export function parseCriteria(freeText: string, modelText: string): Criteria | string {
  const minFreeGiB = Number(freeText.trim());
  if (freeText.trim() === '' || !Number.isFinite(minFreeGiB) || minFreeGiB < 0 || minFreeGiB > MAX_FREE_GIB) {
    return `Free memory: enter a number of GiB from 0 to ${MAX_FREE_GIB}`;
  }
  return { minFreeGiB, model: modelText.trim() };
}

/** Healthy GPUs on reachable nodes with at least so much free memory, most free first, kept live. */
function useFreeGPUs(criteria: Criteria | null): { gpus: FleetGPU[] | null; error: string | null } {
  const [gpus, setGPUs] = useState<FleetGPU[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!criteria) return undefined;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const search = async () => {
      try {
        const answer = await fleetApi.getGPUs(
          {
            minFreeGiB: criteria.minFreeGiB,
            ...(criteria.model ? { model: criteria.model } : {}),
            state: 'ok',
            sort: 'memory_free_gib',
            order: 'desc',
          },
          controller.signal,
        );
        // Free memory on a node that stopped reporting is not memory anyone can use.
        setGPUs(answer.gpus.filter((gpu) => gpu.node_status !== 'offline'));
        setError(null);
      } catch (caught) {
        if (controller.signal.aborted) return;
        setError(errorMessage(caught));
      }
      if (!controller.signal.aborted) timer = setTimeout(() => void search(), FLEET_REFRESH_MS);
    };
    void search();
    return () => {
      controller.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [criteria]);
  return { gpus, error };
}

/** "Which GPUs have at least X GiB free right now?", optionally of one model, across the fleet. */
export function FreeGPUFinder() {
  const [freeText, setFreeText] = useState('8');
  const [modelText, setModelText] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [criteria, setCriteria] = useState<Criteria | null>(null);
  const { gpus, error } = useFreeGPUs(criteria);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseCriteria(freeText, modelText);
    if (typeof parsed === 'string') {
      setInvalid(parsed);
      return;
    }
    setInvalid(null);
    setCriteria(parsed);
  };

  return (
    <Panel level={2} title="Find free GPUs" testId="free-gpu-finder">
      <form className="finder-form" onSubmit={submit} noValidate>
        <label htmlFor="finder-free">At least</label>
        <input
          id="finder-free"
          inputMode="decimal"
          value={freeText}
          onChange={(event) => setFreeText(event.target.value)}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={invalid ? 'finder-error' : undefined}
          size={6}
          data-testid="finder-free"
        />
        <span>GiB free</span>
        <label htmlFor="finder-model">Model</label>
        <input
          id="finder-model"
          value={modelText}
          onChange={(event) => setModelText(event.target.value)}
          placeholder="any, or e.g. A100"
          size={14}
          data-testid="finder-model"
        />
        <button type="submit" className="btn btn-primary" data-testid="finder-submit">
          Find
        </button>
      </form>
      {invalid && (
        <p className="field-error" id="finder-error" role="alert">
          {invalid}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {criteria && gpus && (
        <div aria-live="polite">
          <p className="muted" data-testid="finder-summary">
            {gpus.length === 0
              ? `No healthy GPU on a reachable node has ${criteria.minFreeGiB} GiB free${criteria.model ? ` (${criteria.model})` : ''}.`
              : `${gpus.length} GPU${gpus.length === 1 ? '' : 's'} with at least ${criteria.minFreeGiB} GiB free${criteria.model ? ` (${criteria.model})` : ''}, most free first.`}
          </p>
          {gpus.length > 0 && (
            <TableScroll label="Free GPUs">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">GPU</th>
                    <th scope="col">Model</th>
                    <th scope="col" className="num">
                      Free memory
                    </th>
                    <th scope="col" className="num">
                      Utilization
                    </th>
                    <th scope="col">Users</th>
                  </tr>
                </thead>
                <tbody>
                  {gpus.map((gpu) => (
                    <tr key={`${gpu.node_id}:${gpu.gpu_id}`} data-testid="finder-row" data-node={gpu.node} data-gpu={gpu.gpu_id}>
                      <td>
                        <Link to={nodePath(gpu.node, gpu.gpu_id)}>{gpu.node}</Link>
                        {gpu.node_status === 'stale' && <span className="badge badge-warn">Stale</span>}
                      </td>
                      <td className="mono">{gpu.gpu_id}</td>
                      <td>{gpu.name ?? <span className="na">unknown</span>}</td>
                      <td className="num" data-testid="finder-free-gib">
                        <MetricValue value={gpu.memory_free_gib} format="memory" unit="GiB" />
                        {gpu.memory_total_gib !== null && (
                          <span className="faint"> of {gpu.memory_total_gib.toFixed(1)} GiB</span>
                        )}
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.utilization_pct} format="percent" decimals={0} />
                      </td>
                      <td>{gpu.users.length > 0 ? gpu.users.join(', ') : <span className="faint">none</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )}
        </div>
      )}
    </Panel>
  );
}
