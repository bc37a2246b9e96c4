import { getJson, sendJson } from './client';
import type {
  ProcessAction,
  ProcessActionRecord,
  ProcessActionsResponse,
  ProcessHistoryResponse,
  TimeRange,
} from '../types/system';

/** Process management (`/api/v1/processes`) and one process's history. Actions need an admin token. */
export const processesApi = {
  act: (pid: number, action: ProcessAction, gpuId: number | null): Promise<ProcessActionRecord> =>
    sendJson('POST', `/processes/${pid}/${action}`, gpuId === null ? {} : { gpu_id: gpuId }),
  actions: (limit = 50): Promise<ProcessActionsResponse> => getJson(`/processes/actions?limit=${limit}`),
  history: (pid: number, gpuId: number | null, range: TimeRange, signal?: AbortSignal): Promise<ProcessHistoryResponse> =>
    getJson(`/history/processes/${pid}?range=${range}${gpuId === null ? '' : `&gpu_id=${gpuId}`}`, { signal }),
};
