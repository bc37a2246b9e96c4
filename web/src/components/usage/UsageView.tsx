import { useEffect, useState } from 'react';
import { historyApi, type UsageResponse } from '../../api/history';
import type { TimeRange } from '../../types/system';
import { errorMessage } from '../../utils/errors';
import { MetricValue } from '../SystemMonitor/MetricValue';
import { Panel } from '../SystemMonitor/Panel';

const USAGE_RANGES: TimeRange[] = ['24h', '7d', '30d'];

function UserName({ user }: { user: string | null }) {
  return user ? <span>{user}</span> : <span className="na">unknown</span>;
}

/** GPU-hours and energy per GPU and per user, from server history. */
export function UsageView() {
  const [range, setRange] = useState<TimeRange>('24h');
  const [usage, setUsage] = useState<UsageResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    historyApi
      .getUsage(range, controller.signal)
      .then(setUsage)
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(caught));
      });
    return () => controller.abort();
  }, [range]);

  return (
    <>
      <header className="monitor-header">
        <h1>Usage</h1>
        <div className="segmented" role="group" aria-label="Usage range" data-testid="usage-range">
          {USAGE_RANGES.map((option) => (
            <button key={option} type="button" aria-pressed={option === range} onClick={() => setRange(option)}>
              {option}
            </button>
          ))}
        </div>
      </header>
      {error && (
        <div className="banner banner-general" role="alert">
          <div>
            <div className="banner-title">Usage unavailable</div>
            <div className="banner-message">{error}</div>
          </div>
        </div>
      )}
      {usage && (
        <div className="grid" style={{ gap: 16 }}>
          <Panel title="Per user" testId="usage-users">
            {usage.users.length === 0 ? (
              <p className="faint">No GPU processes were seen in this range.</p>
            ) : (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">GPUs</th>
                      <th scope="col" className="num">Processes</th>
                      <th scope="col" className="num">Process-hours</th>
                      <th scope="col" className="num">GPU-hours</th>
                      <th scope="col" className="num">Energy</th>
                      <th scope="col" className="num">Peak memory</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...usage.users]
                      .sort((a, b) => b.gpu_hours - a.gpu_hours)
                      .map((user) => (
                        <tr key={user.user ?? '(unknown)'} data-testid="usage-user-row">
                          <td>
                            <UserName user={user.user} />
                          </td>
                          <td className="mono">{user.gpu_ids.join(', ')}</td>
                          <td className="num mono">{user.processes}</td>
                          <td className="num">
                            <MetricValue value={user.hours} format="number" decimals={2} unit="h" />
                          </td>
                          <td className="num">
                            <MetricValue value={user.gpu_hours} format="number" decimals={2} unit="h" />
                          </td>
                          <td className="num">
                            <MetricValue value={user.energy_kwh} format="number" decimals={3} unit="kWh" />
                          </td>
                          <td className="num">
                            <MetricValue value={user.peak_memory_gb} format="memory" />
                          </td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </div>
            )}
          </Panel>
          <Panel title="Per GPU" testId="usage-gpus">
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">GPU</th>
                    <th scope="col" className="num">Hours sampled</th>
                    <th scope="col" className="num">GPU-hours</th>
                    <th scope="col" className="num">Mean utilization</th>
                    <th scope="col" className="num">Energy</th>
                    <th scope="col" className="num">Peak power</th>
                    <th scope="col" className="num">Peak memory</th>
                  </tr>
                </thead>
                <tbody>
                  {usage.gpus.map((gpu) => (
                    <tr key={gpu.gpu_id} data-testid="usage-gpu-row">
                      <td>
                        {gpu.gpu_id} · {gpu.name ?? 'GPU'}
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.hours} format="number" decimals={2} unit="h" />
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.gpu_hours} format="number" decimals={2} unit="h" />
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.avg_utilization} format="percent" />
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.energy_kwh} format="number" decimals={3} unit="kWh" />
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.peak_power_watts} format="power" decimals={0} />
                      </td>
                      <td className="num">
                        <MetricValue value={gpu.peak_memory_gb} format="memory" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Panel>
        </div>
      )}
    </>
  );
}
