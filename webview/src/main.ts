// The result panel's page. This first version renders a run's summary statistics; the charts
// (histogram, latency over time, stages) arrive with the extension's panels.
import type { FromPanel, ToPanel } from './messages';
import type { RunFile } from '../../device-agent/src/protocol';

declare function acquireVsCodeApi(): { postMessage(message: FromPanel): void };

function render(run: RunFile): void {
  const root = document.getElementById('root');
  if (!root) return;
  root.replaceChildren();
  const title = document.createElement('h2');
  title.textContent = `${run.model.builtin ?? run.model.path} · ${run.spec.backend} · ${run.spec.precision} · ${run.status}`;
  root.append(title);
  const s = run.stats;
  if (!s) {
    root.append('No measured iterations.');
    return;
  }
  const table = document.createElement('table');
  const rows: Array<[string, string]> = [
    ['Mean', `${s.meanMs.toFixed(2)} ms`],
    ['Median', `${s.medianMs.toFixed(2)} ms`],
    ['P95', `${s.p95Ms.toFixed(2)} ms`],
    ['P99', `${s.p99Ms.toFixed(2)} ms`],
    ['FPS', s.fps.toFixed(1)],
  ];
  for (const [k, v] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  }
  root.append(table);
}

const vscode = acquireVsCodeApi();
window.addEventListener('message', (event: MessageEvent<ToPanel>) => {
  if (event.data.type === 'showRun') render(event.data.run);
});
vscode.postMessage({ type: 'ready' });
