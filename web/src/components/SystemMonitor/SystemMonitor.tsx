import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { historyApi } from '../../api/history';
import { useHistoricalData } from '../../hooks/useHistoricalData';
import { useConnection } from '../../stores/connection';
import { startLayoutSync } from '../../stores/layoutSync';
import { liveController } from '../../stores/liveController';
import { findNode, useFleet } from '../../stores/fleet';
import { useLiveTarget } from '../../stores/liveTarget';
import { resolveGPU, selectGPU, selectGPUInfo, selectProcesses, useLiveData } from '../../stores/liveData';
import { usePreferences } from '../../stores/preferences';
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

const EMPTY_IDS: number[] = [];

interface SystemMonitorProps {
  /** The heading: "System Monitor" for this server; a node's name on a hub's fleet view. */
  title?: ReactNode;
  /** Shown under the header (a node's status and the way back to the fleet). */
  context?: ReactNode;
}

/** The System Monitor page (spec 003 §2.3); the app keeps its data live (see App.tsx), of this server or
 * of the fleet node the live target names. */
export function SystemMonitor({ title = 'System Monitor', context }: SystemMonitorProps = {}) {
  const node = useLiveTarget((state) => state.node);
  const nodeStatus = useFleet((state) => (node === null ? null : (findNode(state.nodes, node)?.status ?? null)));
  const frame = useLiveData((state) => state.frame);
  const preferred = usePreferences((state) => state.selectedGPU);
  const viewMode = usePreferences((state) => state.viewMode);
  const updateInterval = usePreferences((state) => state.updateInterval);
  const theme = usePreferences((state) => state.theme);
  const timeRange = usePreferences((state) => state.timeRange);
  const hasData = useConnection((state) => state.lastUpdate !== null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [editingLayout, setEditingLayout] = useState(false);
  const startEditing = useCallback(() => setEditingLayout(true), []);
  const doneEditing = useCallback(() => setEditingLayout(false), []);

  // A signed-in user's layout comes from, and goes to, the server while the dashboard is open.
  useEffect(() => startLayoutSync(), []);

  const selectedGPU = resolveGPU(frame, preferred);
  const gpuAvailable = frame?.gpuAvailable ?? false;
  const gpuList = frame?.gpuList ?? [];
  const chartKey = viewMode === 'compare' ? gpuList.map((gpu) => gpu.id).join(',') : gpuAvailable ? String(selectedGPU) : '';
  // The same array while the set of GPUs is the same, so the charts keep their instances.
  const chartGpuIds = useMemo(() => (chartKey === '' ? EMPTY_IDS : chartKey.split(',').map(Number)), [chartKey]);
  const { charts, serverHistory, source } = useHistoricalData(timeRange, chartGpuIds);

  const openGPU = useCallback((gpuId: number) => {
    // One change, so the URL gains one history entry.
    usePreferences.setState({ selectedGPU: gpuId, viewMode: 'single' });
    window.scrollTo({ top: 0 });
  }, []);
  const changeView = useCallback((mode: ViewMode) => usePreferences.getState().setViewMode(mode), []);
  const selectGPUId = useCallback((gpuId: number) => usePreferences.getState().setSelectedGPU(gpuId), []);
  const saveInterval = useCallback(
    (interval: UpdateInterval) => usePreferences.getState().setUpdateInterval(interval),
    [],
  );
  const changeRange = usePreferences((state) => state.setTimeRange);

  const gpuMetrics = selectGPU(frame, selectedGPU);
  const compareGPUs = frame?.gpus ?? [];
  const exportActions = useMemo(
    () => serverHistory && <ExportButtons href={(format) => historyApi.exportUrl(timeRange, format, node)} />,
    [serverHistory, timeRange, node],
  );
  const trends = useMemo(
    () => (
      <HistoricalTrends
        charts={charts}
        range={timeRange}
        onRangeChange={changeRange}
        theme={theme}
        serverHistory={serverHistory}
        source={source}
        actions={exportActions}
      />
    ),
    [charts, timeRange, changeRange, theme, serverHistory, source, exportActions],
  );

  return (
    <>
      <header className="monitor-header">
        <h1>
          {title}
          <LiveIndicator intervalMs={updateInterval} nodeStatus={nodeStatus} />
        </h1>
        <div className="header-actions">
          {gpuAvailable && <GPUSelector gpus={gpuList} selected={selectedGPU} onSelect={selectGPUId} />}
          <ViewModeToggle mode={viewMode} onChange={changeView} disabled={!gpuAvailable} />
          {gpuAvailable && (
            <button
              type="button"
              className="btn"
              aria-pressed={editingLayout}
              onClick={() => setEditingLayout((editing) => !editing)}
              data-testid="edit-layout"
            >
              <span aria-hidden="true">▦</span> Edit layout
            </button>
          )}
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

      {context}
      <ErrorBanner onRetry={liveController.retry} />

      {!hasData || !frame ? (
        <LoadingSkeleton />
      ) : (
        <>
          {!gpuAvailable && <NoGPUState />}
          {gpuAvailable && viewMode === 'compare' ? (
            <CompareView
              gpus={compareGPUs}
              selected={selectedGPU}
              onOpen={openGPU}
              system={frame.system}
              storage={frame.storage}
              trends={trends}
              editing={editingLayout}
              onEditLayout={startEditing}
              onDoneEditing={doneEditing}
            />
          ) : gpuAvailable ? (
            <SingleView
              gpu={gpuMetrics}
              info={selectGPUInfo(frame, selectedGPU)}
              system={frame.system}
              processes={selectProcesses(frame, selectedGPU)}
              storage={frame.storage}
              trends={trends}
              editing={editingLayout}
              onEditLayout={startEditing}
              onDoneEditing={doneEditing}
            />
          ) : (
            <>
              {trends}
              {frame.system && (
              <div className="grid grid-2 section">
                <SystemResourcesPanel system={frame.system} />
                <StoragePanel storage={frame.storage} />
              </div>
              )}
            </>
          )}
        </>
      )}

      {settingsOpen && (
        <SettingsModal interval={updateInterval} onSave={saveInterval} onClose={() => setSettingsOpen(false)} />
      )}
    </>
  );
}
