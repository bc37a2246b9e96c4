import { useCallback, useMemo, useState } from 'react';
import { historyApi } from '../../api/history';
import { useHistoricalData } from '../../hooks/useHistoricalData';
import { MAX_CONSECUTIVE_ERRORS, useSystemMonitorStore } from '../../stores/systemMonitorStore';
import type { UpdateInterval, ViewMode } from '../../types/system';
import { CompareView } from './CompareView';
import { ErrorBanner } from './ErrorBanner';
import { ExportButtons } from './ExportButtons';
import { GPUSelector } from './GPUSelector';
import { HistoricalTrends } from './HistoricalTrends';
import { LiveIndicator } from './LiveIndicator';
import { LoadingSkeleton } from './LoadingSkeleton';
import { NoGPUState } from './NoGPUState';
import { SettingsModal } from './SettingsModal';
import { SingleView } from './SingleView';
import { StoragePanel } from './StoragePanel';
import { SystemResourcesPanel } from './SystemResourcesPanel';
import { ViewModeToggle } from './ViewModeToggle';

/** The System Monitor page (spec 003 §2.3); the app keeps its data live (see App.tsx). */
export function SystemMonitor() {
  const store = useSystemMonitorStore;
  const gpuAvailable = store((state) => state.gpuAvailable);
  const gpuList = store((state) => state.gpuList);
  const selectedGPU = store((state) => state.selectedGPU);
  const gpuMetrics = store((state) => state.gpuMetrics);
  const allGPUs = store((state) => state.allGPUs);
  const systemMetrics = store((state) => state.systemMetrics);
  const gpuProcesses = store((state) => state.gpuProcesses);
  const storageInfo = store((state) => state.storageInfo);
  const viewMode = store((state) => state.viewMode);
  const updateInterval = store((state) => state.updateInterval);
  const theme = store((state) => state.theme);
  const timeRange = store((state) => state.timeRange);
  const isPolling = store((state) => state.isPolling);
  const transport = store((state) => state.transport);
  const isConnected = store((state) => state.isConnected);
  const loading = store((state) => state.loading);
  const isRetrying = store((state) => state.isRetrying);
  const error = store((state) => state.error);
  const errorType = store((state) => state.errorType);
  const consecutiveErrors = store((state) => state.consecutiveErrors);
  const lastSuccessfulFetch = store((state) => state.lastSuccessfulFetch);
  const actions = useMemo(() => {
    const state = store.getState();
    return {
      retryConnection: state.retryConnection,
      setSelectedGPU: state.setSelectedGPU,
      setViewMode: state.setViewMode,
      setUpdateInterval: state.setUpdateInterval,
      setTimeRange: state.setTimeRange,
    };
  }, [store]);
  const [settingsOpen, setSettingsOpen] = useState(false);

  const chartGpuIds = useMemo(
    () => (viewMode === 'compare' ? gpuList.map((gpu) => gpu.id) : gpuAvailable ? [selectedGPU] : []),
    [viewMode, gpuList, selectedGPU, gpuAvailable],
  );
  const { charts, serverHistory, source } = useHistoricalData(timeRange, chartGpuIds);

  const openGPU = useCallback(
    (gpuId: number) => {
      actions.setSelectedGPU(gpuId);
      actions.setViewMode('single');
      window.scrollTo({ top: 0 });
    },
    [actions],
  );
  const changeView = useCallback((mode: ViewMode) => actions.setViewMode(mode), [actions]);
  const saveInterval = useCallback(
    (interval: UpdateInterval) => actions.setUpdateInterval(interval),
    [actions],
  );

  const firstLoad = loading && lastSuccessfulFetch === null;
  const compareGPUs = allGPUs.length > 0 ? allGPUs : gpuMetrics ? [gpuMetrics] : [];

  return (
    <>
      <header className="monitor-header">
        <h1>
          System Monitor
          <LiveIndicator
            isPolling={isPolling}
            isConnected={isConnected || lastSuccessfulFetch === null}
            intervalMs={updateInterval}
            transport={transport}
          />
        </h1>
        <div className="header-actions">
          {gpuAvailable && <GPUSelector gpus={gpuList} selected={selectedGPU} onSelect={actions.setSelectedGPU} />}
          <ViewModeToggle mode={viewMode} onChange={changeView} disabled={!gpuAvailable} />
          <button
            type="button"
            className="btn"
            onClick={() => setSettingsOpen(true)}
            aria-haspopup="dialog"
            data-testid="open-settings"
          >
            <span aria-hidden="true">⚙</span> Settings
          </button>
        </div>
      </header>

      {error && errorType && (
        <ErrorBanner
          type={errorType}
          message={error}
          isRetrying={isRetrying}
          stopped={!isPolling && consecutiveErrors >= MAX_CONSECUTIVE_ERRORS}
          failures={consecutiveErrors}
          onRetry={actions.retryConnection}
        />
      )}

      {firstLoad ? (
        <LoadingSkeleton />
      ) : (
        <>
          {!gpuAvailable && lastSuccessfulFetch !== null && <NoGPUState />}
          <HistoricalTrends
            charts={charts}
            range={timeRange}
            onRangeChange={actions.setTimeRange}
            theme={theme}
            serverHistory={serverHistory}
            source={source}
            actions={serverHistory && <ExportButtons href={(format) => historyApi.exportUrl(timeRange, format)} />}
          />
          {gpuAvailable && viewMode === 'compare' ? (
            <CompareView gpus={compareGPUs} selected={selectedGPU} onOpen={openGPU} />
          ) : gpuAvailable ? (
            <SingleView
              gpu={gpuMetrics}
              info={gpuList.find((gpu) => gpu.id === selectedGPU)}
              system={systemMetrics}
              processes={gpuProcesses}
              storage={storageInfo}
            />
          ) : (
            systemMetrics && (
              <div className="grid grid-2 section">
                <SystemResourcesPanel system={systemMetrics} />
                <StoragePanel storage={storageInfo} />
              </div>
            )
          )}
        </>
      )}

      {settingsOpen && (
        <SettingsModal interval={updateInterval} onSave={saveInterval} onClose={() => setSettingsOpen(false)} />
      )}
    </>
  );
}
