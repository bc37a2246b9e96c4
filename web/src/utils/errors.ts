import { ApiError } from '../api/client';
import type { ErrorType } from '../types/system';

/** Spec 003 §8.1: what kind of failure this is, which decides the banner's title, colour and advice. */
export function classifyError(error: unknown): ErrorType {
  if (error instanceof ApiError) {
    if (error.status === null) return 'connection';
    if (error.status === 503) return 'gpu';
    if (error.status >= 500) return 'api';
    return 'general';
  }
  // fetch() rejects with a TypeError when the network fails.
  if (error instanceof TypeError) return 'connection';
  return 'general';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  if (typeof error === 'string') return error;
  return 'Unknown error';
}

export interface ErrorPresentation {
  title: string;
  advice: string;
}

export const ERROR_PRESENTATION: Record<ErrorType, ErrorPresentation> = {
  connection: {
    title: 'Connection lost',
    advice: 'The GPU Sentinel server is not reachable. Check that it is running.',
  },
  gpu: {
    title: 'GPU monitoring unavailable',
    advice: 'The server cannot read the GPUs right now (driver not loaded or GPU lost).',
  },
  api: {
    title: 'Server error',
    advice: 'The server failed while collecting metrics.',
  },
  general: {
    title: 'Request failed',
    advice: 'The server refused the request.',
  },
};
