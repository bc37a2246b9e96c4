import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Benchmark hooks (bench/web_render.py): a separate chunk, fetched only with ?bench in the URL.
if (new URLSearchParams(window.location.search).has('bench')) {
  void import('./bench').then((module) => module.install());
}
