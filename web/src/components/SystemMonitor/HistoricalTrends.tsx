import { memo } from 'react';
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
  return (
    <section className="section" aria-labelledby="trends-title" data-testid="historical-trends">
      <div className="section-header">
        <h2 id="trends-title">Historical trends</h2>
        <TimeRangeSelector range={range} onChange={onRangeChange} serverHistory={serverHistory} />
        <span className="faint" style={{ fontSize: 12 }} data-testid="trend-source">
          {source}
        </span>
        <span style={{ marginLeft: 'auto', display: 'flex', gap: 6 }}>{actions}</span>
      </div>
      <div className="grid charts-grid">
        <UtilizationChart data={charts.utilization} theme={theme} />
        <MemoryUsageChart data={charts.memory} theme={theme} />
        <TemperatureChart data={charts.temperature} theme={theme} />
        <PowerChart data={charts.power} theme={theme} />
      </div>
    </section>
  );
});
