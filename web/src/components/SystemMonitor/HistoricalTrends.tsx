import { memo, useEffect } from 'react';
import { useAlertTransitionsOf } from '../../hooks/useAlertTransitions';
import { useChartView } from '../../stores/chartView';
import { usePreferences } from '../../stores/preferences';
import type { Theme, TimeRange } from '../../types/system';
import type { ChartSet } from '../../utils/chartData';
import { MemoryUsageChart, PowerChart, TemperatureChart, UtilizationChart } from '../charts/TrendCharts';
import { TimeRangeSelector } from './TimeRangeSelector';

interface HistoricalTrendsProps {
  charts: ChartSet;
  range: TimeRange;
  onRangeChange: (range: TimeRange) => void;
  theme: Theme;
  serverHistory: boolean;
  source: string;
  actions?: React.ReactNode;
}

export const HistoricalTrends = memo(function HistoricalTrends({
  charts,
  range,
  onRangeChange,
  theme,
  serverHistory,
  source,
  actions,
}: HistoricalTrendsProps) {
  const transitions = useAlertTransitionsOf(range);
  // A window zoomed into one range means nothing in another: a new range starts live.
  useEffect(() => useChartView.getState().backToLive(), [range]);
  const showMinMax = usePreferences((state) => state.showMinMax);
  return (
    <section className="section" aria-labelledby="trends-title" data-testid="historical-trends">
      <div className="section-header">
        <h2 id="trends-title">Historical trends</h2>
        <TimeRangeSelector range={range} onChange={onRangeChange} serverHistory={serverHistory} />
        <span className="faint" style={{ fontSize: 12 }} data-testid="trend-source">
          {source}
        </span>
        <label className="chart-option">
          <input
            type="checkbox"
            checked={showMinMax}
            onChange={(event) => usePreferences.getState().setShowMinMax(event.target.checked)}
            data-testid="toggle-min-max"
          />
          Min–max band
        </label>
        <span style={{ marginLeft: 'auto', display: 'flex', gap: 6 }}>{actions}</span>
      </div>
      <div className="grid charts-grid">
        <UtilizationChart data={charts.utilization} theme={theme} transitions={transitions} />
        <MemoryUsageChart data={charts.memory} theme={theme} transitions={transitions} />
        <TemperatureChart data={charts.temperature} theme={theme} transitions={transitions} />
        <PowerChart data={charts.power} theme={theme} transitions={transitions} />
      </div>
    </section>
  );
});
