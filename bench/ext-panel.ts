// Benchmark: first render of the result panel for a run with 100k samples (goal < 200 ms), and the
// compare panel for two such runs. The real page bundle (dist/webview.js + dist/webview.css) runs
// in Debian's Chromium through playwright-core, with the `acquireVsCodeApi` a webview gets replaced
// by a recorder; the time is the page's own, from receiving the run to the end of drawing.
//   npm run bench:ext-panel -- [--samples 100000] [--rounds 5] [--screenshot FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareTable, COMPARE_NOTES } from '../src/core/report';
import { fakeRun, latencies } from '../test/helpers/fakeRun';
import { launchChromium, ROOT } from '../test/vscode/codeServer';
import type { RenderReport, ToComparePanel } from '../contract/panelMessages';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' }, screenshot: { type: 'string' } } });
const n = Number(values.samples);

/** What the page's stand-in for acquireVsCodeApi records: every message the panel posts. */
interface Shim {
  __fromPanel: Array<{ m: { type: string }; at: number }>;
}
const rounds = Number(values.rounds);

/** A page shaped like a webview: VS Code's dark theme variables, the shim, the bundle. */
function pageHtml(view: 'result' | 'compare'): string {
  const dist = path.join(ROOT, 'dist');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<style>:root{--vscode-foreground:#cccccc;--vscode-editor-foreground:#d4d4d4;--vscode-editor-background:#1e1e1e;--vscode-font-family:sans-serif;--vscode-font-size:13px;--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-red:#f14c4c;--vscode-charts-yellow:#cca700;--vscode-charts-purple:#b180d7;--vscode-charts-lines:rgba(128,128,128,0.3);--vscode-panel-border:#444;--vscode-descriptionForeground:#9d9d9d;--vscode-button-background:#0e639c;--vscode-button-foreground:#fff}</style>
<link rel="stylesheet" href="file://${dist}/webview.css"></head>
<body data-view="${view}"><main id="root"></main>
<script>window.__fromPanel=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>window.__fromPanel.push({m,at:performance.now()}),getState:()=>undefined,setState:()=>{}});</script>
<script src="file://${dist}/webview.js"></script></body></html>`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-bench-panel-'));
  const browser = await launchChromium();
  try {
    const run = fakeRun({ id: 'bench-100k', latencyMs: latencies(n, 8, 7), warmupLatencyMs: latencies(200, 12, 3), stagesMs: { preprocess: latencies(n, 1.5, 11), inference: latencies(n, 5.5, 12), postprocess: latencies(n, 1, 13) } });
    const other = fakeRun({ id: 'bench-100k-b', latencyMs: latencies(n, 6, 9), precision: 'fp16' });
    const resultPage = path.join(dir, 'result.html');
    const comparePage = path.join(dir, 'compare.html');
    writeFileSync(resultPage, pageHtml('result'));
    writeFileSync(comparePage, pageHtml('compare'));

    const resultMs: number[] = [];
    const wallMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${resultPage}`);
      await page.waitForFunction(() => (globalThis as unknown as Shim).__fromPanel.some((x) => x.m.type === 'ready'));
      const postedAt = await page.evaluate((msg) => {
        const at = performance.now();
        (globalThis as unknown as { postMessage(m: unknown, origin: string): void }).postMessage(msg, '*');
        return at;
      }, { type: 'run', run, file: '/bench/run.json' } as const);
      const handle = await page.waitForFunction(() => (globalThis as unknown as Shim).__fromPanel.find((x) => x.m.type === 'rendered') ?? null, undefined, { polling: 'raf' });
      const rendered = (await handle.jsonValue()) as unknown as { m: { report: RenderReport }; at: number };
      const report = rendered.m.report;
      if (i === 0 && values.screenshot) await page.screenshot({ path: values.screenshot, fullPage: true });
      if (!report.final || report.samples !== n || report.histogramPixels === 0) throw new Error(`the panel did not draw the run: ${JSON.stringify(report)}`);
      resultMs.push(report.renderMs);
      wallMs.push(rendered.at - postedAt);
      await page.close();
    }

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(`file://${comparePage}`);
    await page.waitForFunction(() => (globalThis as unknown as Shim).__fromPanel.some((x) => x.m.type === 'ready'));
    const runs = [run, other];
    const msg: ToComparePanel = {
      type: 'compare',
      runs: runs.map((r, i) => ({ id: r.id, name: compareTable(runs, 0).rows[i]![0]!, latencyMs: r.samples.latencyMs, medianMs: r.stats!.medianMs, p95Ms: r.stats!.p95Ms })),
      files: ['a.json', 'b.json'],
      table: compareTable(runs, 0),
      notes: [...COMPARE_NOTES],
      baselineIndex: 0,
    };
    await page.evaluate((m) => (globalThis as unknown as { postMessage(x: unknown, origin: string): void }).postMessage(m, '*'), msg);
    const compareHandle = await page.waitForFunction(() => (globalThis as unknown as Shim).__fromPanel.find((x) => x.m.type === 'rendered') ?? null, undefined, { polling: 'raf' });
    const compareMs = ((await compareHandle.jsonValue()) as unknown as { m: { renderMs: number } }).m.renderMs;
    await page.close();

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(`result panel, first render of a run with ${n.toLocaleString('en-US')} samples (+3 stages), ${rounds} fresh pages:`);
    console.log(`  page time (message received -> drawn): median ${median(resultMs).toFixed(1)} ms, min ${Math.min(...resultMs).toFixed(1)} ms, max ${Math.max(...resultMs).toFixed(1)} ms (goal < 200 ms)`);
    console.log(`  with message delivery (postMessage -> report): median ${median(wallMs).toFixed(1)} ms`);
    console.log(`compare panel, 2 runs of ${n.toLocaleString('en-US')} samples: ${compareMs.toFixed(1)} ms`);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
