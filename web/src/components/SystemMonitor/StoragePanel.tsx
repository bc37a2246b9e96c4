import { memo } from 'react';
import type { StorageInfo } from '../../types/system';
import { levelOf } from '../../utils/metricHelpers';
import { MetricValue } from './MetricValue';
import { MetricRow, Panel } from './Panel';
import { ProgressBar } from './ProgressBar';
import { useLevelBands } from '../../stores/metricCatalogue';

export const StoragePanel = memo(function StoragePanel({ storage }: { storage: StorageInfo[] }) {
  const bands = useLevelBands();
  return (
    <Panel title="Storage" testId="panel-storage">
      {storage.length === 0 && <p className="faint">No mounted filesystems reported.</p>}
      {storage.map((disk) => (
        <div key={disk.mount_point} data-testid="storage-mount">
          <MetricRow label={<span className="mono">{disk.mount_point}</span>}>
            <MetricValue value={disk.used_gb} format="memory" decimals={1} /> <span className="faint">/</span>{' '}
            <MetricValue value={disk.total_gb} format="memory" decimals={1} />{' '}
            <span className="faint">
              (<MetricValue value={disk.used_percent} format="percent" decimals={0} />)
            </span>
          </MetricRow>
          <ProgressBar
            percent={disk.used_percent}
            level={levelOf(disk.used_percent, bands.storage)}
            label={`${disk.mount_point} used`}
          />
        </div>
      ))}
    </Panel>
  );
});
