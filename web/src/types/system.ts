/**
 * Shapes of the REST API (spec 003 §3), named for the dashboard. They are aliases of the types generated
 * from the service's OpenAPI schema (`npm run gen:api`), so a change on the server that the dashboard does
 * not follow fails the type check. Every metric may be null: hardware that cannot report a value sends
 * null, never 0.
 */
import type { components } from './api.gen';

type Schemas = components['schemas'];

export type Metric = number | null;

export type GPUUtilization = Schemas['GPUUtilization'];
export type GPUMemory = Schemas['GPUMemory'];
export type GPUPower = Schemas['GPUPower'];
export type GPUClocks = Schemas['GPUClocks'];
export type GPUPCIe = Schemas['GPUPCIe'];
export type XidEvent = Schemas['XidEventModel'];
export type ECCErrors = Schemas['ECCErrors'];
export type RetiredPages = Schemas['RetiredPages'];
export type RemappedRows = Schemas['RemappedRows'];
export type GPUHealth = Schemas['GPUHealth'];
export type GPUMetrics = Schemas['GPUMetrics'];
export type MIGInstance = Schemas['MIGInstance'];
export type GPUInfo = Schemas['GPUInfo'];
export type SystemMetrics = Schemas['SystemMetrics'];
export type GPUProcess = Schemas['GPUProcess'];
export type StorageInfo = Schemas['StorageInfo'];
export type MonitoringDataResponse = Schemas['MonitoringDataResponse'];
export type AllGPUsResponse = Schemas['AllGPUsResponse'];
export type HealthResponse = Schemas['HealthResponse'];

export type ViewMode = 'single' | 'compare';
export type UpdateInterval = 500 | 1000 | 2000 | 5000;
export type Theme = 'dark' | 'light';
export type TimeRange = '1h' | '6h' | '24h' | '7d' | '30d';

export const UPDATE_INTERVALS: readonly UpdateInterval[] = [500, 1000, 2000, 5000];
export const LIVE_TIME_RANGES: readonly TimeRange[] = ['1h', '6h', '24h'];
export const SERVER_ONLY_TIME_RANGES: readonly TimeRange[] = ['7d', '30d'];

export type ProcessAction = 'terminate' | 'pause' | 'resume';
export type ProcessActionRecord = Schemas['ProcessActionOut'];
export type ProcessActionsResponse = Schemas['ProcessActionsOut'];
export type ProcessHistoryResponse = Schemas['ProcessHistoryResponse'];
export type ProcessHistorySeries = Schemas['ProcessHistorySeries'];
