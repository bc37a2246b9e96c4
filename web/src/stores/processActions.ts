/**
 * Process management as the dashboard sees it: whether the server allows actions, the audit trail, and
 * the one action in flight. Refreshed after every action and whenever a page that shows it opens.
 */
import { create } from 'zustand';
import { processesApi } from '../api/processes';
import type { GPUProcess, ProcessAction, ProcessActionRecord } from '../types/system';
import { errorMessage } from '../utils/errors';

export interface ProcessActionsState {
  /** null until the server has answered. */
  enabled: boolean | null;
  graceSeconds: number;
  log: ProcessActionRecord[];
  logError: string | null;
  /** What the last action did, in a sentence. */
  lastResult: string | null;
  refresh: () => Promise<void>;
  /** Resolves to the audit record; rejects with the server's one-line reason. */
  perform: (process: GPUProcess, action: ProcessAction) => Promise<ProcessActionRecord>;
}

export const useProcessActions = create<ProcessActionsState>()((set, get) => ({
  enabled: null,
  graceSeconds: 5,
  log: [],
  logError: null,
  lastResult: null,
  refresh: async () => {
    try {
      const response = await processesApi.actions();
      set({ enabled: response.enabled, graceSeconds: response.grace_seconds, log: response.actions, logError: null });
    } catch (error) {
      set({ logError: errorMessage(error) });
    }
  },
  perform: async (process, action) => {
    try {
      const record = await processesApi.act(process.pid, action, process.gpu_id ?? null);
      set({ lastResult: `${process.process_name} (PID ${process.pid}) ${record.outcome}: ${record.detail}.` });
      return record;
    } finally {
      void get().refresh();
    }
  },
}));
