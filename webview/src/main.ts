// Entry of the panels' page bundle (dist/webview.js). The HTML the extension builds says which
// view this page is (`data-view` on <body>); the page says `ready`, then draws what it is sent.
import { ComparePage } from './comparePage';
import type { FromComparePanel, FromResultPanel, PanelState, ToComparePanel, ToResultPanel } from '../../contract/panelMessages';
import { ResultPage } from './resultPage';
import { initialResultModel, reduceResult, type ResultModel } from '../../contract/resultModel';
import { onThemeChange } from './theme';

interface VsCodeApi<Out> {
  postMessage(message: Out): void;
  getState(): PanelState | undefined;
  setState(state: PanelState): void;
}

declare function acquireVsCodeApi<Out>(): VsCodeApi<Out>;

function startResult(root: HTMLElement): void {
  const vscode = acquireVsCodeApi<FromResultPanel>();
  const page = new ResultPage(root, (m) => vscode.postMessage(m));
  let model: ResultModel = initialResultModel();
  page.bindStop(() => model);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastDrawAt = 0;
  let reported = false;

  const draw = (startedAt: number) => {
    timer = null;
    lastDrawAt = performance.now();
    const report = page.draw(model, startedAt);
    // Report the first drawing of a run and its final drawing; live redraws are not reported.
    if (!reported || report.final) vscode.postMessage({ type: 'rendered', report });
    reported = true;
  };

  /** Live redraws at most once per interval; the final run and phase changes draw at once. */
  const schedule = (startedAt: number, now: boolean) => {
    if (now) {
      if (timer) clearTimeout(timer);
      draw(startedAt);
      return;
    }
    if (timer) return;
    const waitMs = Math.max(0, lastDrawAt + model.redrawIntervalMs - performance.now());
    timer = setTimeout(() => draw(startedAt), waitMs);
  };

  window.addEventListener('message', (event: MessageEvent<ToResultPanel>) => {
    const startedAt = performance.now();
    const msg = event.data;
    const previous = model;
    model = reduceResult(model, msg);
    if (msg.type === 'live' && previous.runId !== msg.runId) reported = false;
    if (msg.type === 'live' || msg.type === 'run') {
      vscode.setState({ view: 'result', runId: model.runId ?? '', file: model.file });
    }
    schedule(startedAt, msg.type !== 'samples' && !(msg.type === 'phase' && msg.phase === previous.phase));
  });
  onThemeChange((theme) => {
    page.setTheme(theme);
  });
  vscode.postMessage({ type: 'ready' });
}

function startCompare(root: HTMLElement): void {
  const vscode = acquireVsCodeApi<FromComparePanel>();
  const page = new ComparePage(root, (m) => vscode.postMessage(m));
  window.addEventListener('message', (event: MessageEvent<ToComparePanel>) => {
    const startedAt = performance.now();
    const msg = event.data;
    if (msg.type !== 'compare') return;
    vscode.setState({ view: 'compare', files: msg.files, baselineIndex: msg.baselineIndex });
    vscode.postMessage(page.draw(msg, startedAt));
  });
  onThemeChange((theme) => page.setTheme(theme));
  vscode.postMessage({ type: 'ready' });
}

/** Starts once the stylesheet has applied: charts size themselves from their containers, and a
 * chart drawn into a container without its CSS height would draw nothing. */
function start(): void {
  const root = document.getElementById('root');
  if (!root) return;
  if (document.body.dataset.view === 'compare') startCompare(root);
  else startResult(root);
}

if (document.readyState === 'complete') start();
else window.addEventListener('load', start, { once: true });
