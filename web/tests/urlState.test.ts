import { describe, expect, it } from 'vitest';
import { preferencesFromQuery, queryFromPreferences } from '../src/stores/urlState';

describe('URL state', () => {
  it('reads GPU, view and range, and ignores anything malformed', () => {
    expect(preferencesFromQuery('?gpu=3&view=compare&range=24h')).toEqual({ selectedGPU: 3, viewMode: 'compare', timeRange: '24h' });
    expect(preferencesFromQuery('?gpu=-1&view=sideways&range=1y')).toEqual({});
    expect(preferencesFromQuery('?gpu=2.5&range=30d')).toEqual({ timeRange: '30d' });
    expect(preferencesFromQuery('')).toEqual({});
  });

  it('writes what it reads', () => {
    const query = queryFromPreferences({ selectedGPU: 7, viewMode: 'single', timeRange: '7d' });
    expect(query).toBe('?gpu=7&view=single&range=7d');
    expect(preferencesFromQuery(query)).toEqual({ selectedGPU: 7, viewMode: 'single', timeRange: '7d' });
  });
});
