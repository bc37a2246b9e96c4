/// <reference types="vitest/config" />
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

// The build lands inside the Python package, which serves it at "/".
const outDir = '../src/gpu_sentinel/web';
const devApi = process.env.GPU_SENTINEL_DEV_API ?? 'http://127.0.0.1:5500';

/**
 * Emits `sw.js` (src/sw/worker.js) with this build's app shell prepended: "/" and every emitted file.
 * Its version is a hash of those names (and of index.html), so each new build is a new worker to the
 * browser.
 */
function serviceWorker(): Plugin {
  const source = new URL('./src/sw/worker.js', import.meta.url);
  return {
    name: 'gpu-sentinel-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((name) => name !== 'index.html' && !name.endsWith('.map'))
        .sort();
      const shell = ['/', ...files.map((name) => `/${name}`)];
      const index = bundle['index.html'];
      const page = index?.type === 'asset' ? String(index.source) : '';
      const version = createHash('sha256').update(shell.join('\n')).update(page).digest('hex').slice(0, 16);
      const header = `const VERSION = ${JSON.stringify(version)};\nconst SHELL = ${JSON.stringify(shell)};\n`;
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: header + readFileSync(source, 'utf8') });
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    // Libraries in a chunk of their own, which a release that changes only the dashboard leaves cached.
    rolldownOptions: { output: { codeSplitting: { groups: [{ name: 'vendor', test: /node_modules/ }] } } },
  },
  server: {
    proxy: {
      '/api': { target: devApi, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
