import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { registerServiceWorker } from './sw/register';
import { UpdatePrompt } from './sw/UpdatePrompt';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The reload offer lives outside the app's tree, so it shows on every page and never re-renders it.
const updateRoot = document.body.appendChild(document.createElement('div'));
createRoot(updateRoot).render(<UpdatePrompt />);
registerServiceWorker();

// Benchmark hooks (bench/web_render.py): a separate chunk, fetched only with ?bench in the URL.
if (new URLSearchParams(window.location.search).has('bench')) {
  void import('./bench').then((module) => module.install());
}
