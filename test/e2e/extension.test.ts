// End to end, as a user: the packaged .vsix installed into code-server, Debian's Chromium driving
// the workbench. Command palette -> "Jetbench: Run Benchmark" through its quick picks on the local
// device with the tiny model -> the result panel: its P95 equals the run file's, its histogram has
// bars -> a second run -> "Jetbench: Compare Runs" -> the compare panel. Screenshots of both panels
// go to test-output/e2e/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Frame, Page } from 'playwright-core';
import type { RunFile, Telemetry } from '../../contract/protocol';
import { overCurrentRises, throttleSpans } from '../../contract/telemetry';
import { runCli } from '../helpers/cli';
import { fakeRun, latencies } from '../helpers/fakeRun';
import { formatMj, formatMs } from '../../contract/format';
import { overCurrentWhileMeasuring, writeJetsonTree } from '../helpers/jetsonTrees';
import { installVsix, launchChromium, openWorkbench, ROOT, startCodeServer, workbenchUrl, type CodeServer } from '../vscode/codeServer';
import { makeTestWorkspace } from '../vscode/workspace';

const OUT = path.join(ROOT, 'test-output', 'e2e');
const STEP_MS = 60_000;

/** Runs a command by its title from the command palette. */
async function palette(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: STEP_MS });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: STEP_MS });
  await input.press('Enter');
}

/** Answers one quick-pick step: waits for its title, types the choice, picks the matching row. */
async function pick(page: Page, stepTitle: RegExp, choice: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: stepTitle }).waitFor({ timeout: STEP_MS });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(choice);
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: choice }).first().waitFor({ timeout: STEP_MS });
  await input.press('Enter');
}

/** Answers an input-box step. */
async function answer(page: Page, stepTitle: RegExp, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: stepTitle }).waitFor({ timeout: STEP_MS });
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(text);
  await input.press('Enter');
}

async function runBenchmarkThroughPalette(page: Page, precision: string, iterations: number): Promise<void> {
  await palette(page, 'Jetbench: Run Benchmark');
  await pick(page, /\(1\/5\) — device/, 'local');
  await pick(page, /\(2\/5\) — model/, 'tiny');
  await pick(page, /\(3\/5\) — backend/, 'onnxruntime');
  await pick(page, /\(4\/5\) — precision/, precision);
  await answer(page, /\(5\/5\) — iterations/, String(iterations));
}

/** The frame holding a panel's page (webview content sits in nested iframes), once it shows
 * `selector`; a result panel of a run in `exclude` does not count (an older panel's frame). */
async function panelFrame(page: Page, view: 'result' | 'compare', selector: string, exclude: string[] = []): Promise<Frame> {
  const deadline = Date.now() + 2 * STEP_MS;
  for (;;) {
    for (const frame of page.frames()) {
      const found = await frame
        .evaluate(
          ([v, s, ex]) => document.body?.dataset.view === v && !ex.includes(document.body.dataset.runId ?? '') && document.querySelector(s) !== null,
          [view, selector, exclude] as const,
        )
        .catch(() => false);
      if (found) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no visible ${view} panel showing ${selector}`);
    // The webview's frames come and go as the workbench lays out; look again on the next frame.
    await page.waitForEvent('framenavigated', { timeout: 1000 }).catch(() => undefined);
  }
}

/** Pixels of a canvas painted in the theme's first chart colour: the bars or lines, not axes. */
function chartPixels(frame: Frame, canvasId: string): Promise<number> {
  return frame.evaluate((id) => {
    const canvas = document.getElementById(id) as HTMLCanvasElement;
    const probe = document.createElement('canvas').getContext('2d')!;
    probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-blue').trim() || '#3794ff';
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] !== 0 && Math.abs(data[i]! - r!) + Math.abs(data[i + 1]! - g!) + Math.abs(data[i + 2]! - b!) <= 24) n++;
    }
    return n;
  }, canvasId);
}

function newestRun(workspace: string, before: ReadonlySet<string>): { file: string; run: RunFile } {
  const dir = path.join(workspace, '.jetbench', 'runs');
  const fresh = readdirSync(dir).filter((f) => f.endsWith('.json') && !before.has(f));
  assert.equal(fresh.length, 1, `expected one new run file, found ${fresh.join(', ')}`);
  const file = path.join(dir, fresh[0]!);
  return { file, run: JSON.parse(readFileSync(file, 'utf8')) as RunFile };
}

function runFiles(workspace: string): Set<string> {
  try {
    return new Set(readdirSync(path.join(workspace, '.jetbench', 'runs')));
  } catch {
    return new Set();
  }
}

describe('end to end: the packaged extension in code-server', { timeout: 15 * 60_000 }, () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;
  let dir: string;
  let orinRoot: string;
  const consoleErrors: string[] = [];

  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const vsix = path.join(OUT, 'jetbench.vsix');
    const pack = spawnSync(process.execPath, ['scripts/package.mjs', '--out', vsix], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(pack.status, 0, `${pack.stdout}\n${pack.stderr}`);
    workspace = makeTestWorkspace();
    // An SSH device nothing listens for (port 1 on loopback refuses at once): the bad-host test below.
    const settingsFile = path.join(workspace, '.vscode', 'settings.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(settingsFile, JSON.stringify({ ...settings, 'jetbench.devices': [{ name: 'nowhere', host: '127.0.0.1', port: 1 }] }, null, 2));
    dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-e2e-'));
    installVsix(vsix, dir, path.join(dir, 'extensions'));
    // The local device's sensors are an Orin Nano's sysfs tree holding a real tegrastats line
    // (test/helpers/jetsonTrees.ts): every run made in the editor has telemetry, as on a Jetson.
    orinRoot = writeJetsonTree(mkdtempSync(path.join(os.tmpdir(), 'jetbench-orin-')), 'orin-nano-jp6');
    server = await startCodeServer({
      workspace,
      dir,
      extensionsDir: path.join(dir, 'extensions'),
      env: { JETBENCH_DEVICE_ROOT: orinRoot, JETBENCH_TELEMETRY_IDLE_MS: '1500', JETBENCH_TELEMETRY_HZ: '20' },
    });
    browser = await launchChromium();
    page = await openWorkbench(browser, workbenchUrl(server, workspace));
    // The workspace has a spec file, so the extension activates at start-up (workspaceContains);
    // its status-bar item says the extension host is up and the commands are in the palette.
    await page.locator('.statusbar-item', { hasText: 'jetbench: local' }).first().waitFor({ timeout: 2 * STEP_MS });
    // More room for the panels in the screenshots: hide the (empty) secondary side bar.
    const auxiliaryBar = page.locator('.part.auxiliarybar');
    if (await auxiliaryBar.isVisible()) {
      await page.keyboard.press('Control+Alt+KeyB');
      await auxiliaryBar.waitFor({ state: 'hidden', timeout: STEP_MS });
    }
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|jetbench|webview/i.test(m.text())) consoleErrors.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (orinRoot) rmSync(orinRoot, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  let first: { file: string; run: RunFile };
  let second: { file: string; run: RunFile };
  let third: { file: string; run: RunFile };

  it('Run Benchmark through the palette opens a panel whose P95 is the run file\'s, with a drawn histogram', async () => {
    const known = runFiles(workspace);
    await runBenchmarkThroughPalette(page, 'fp32', 200);
    const frame = await panelFrame(page, 'result', 'body[data-status="ok"] [data-metric="p95"]');
    first = newestRun(workspace, known);
    assert.equal(first.run.status, 'ok');
    assert.equal(first.run.samples.latencyMs.length, 200);
    const p95 = frame.locator('[data-metric="p95"] .value');
    assert.equal(await p95.textContent(), `${formatMs(first.run.stats!.p95Ms)} ms`);
    assert.equal(await frame.locator('[data-metric="p95"]').getAttribute('data-value-ms'), String(first.run.stats!.p95Ms));
    const bars = await chartPixels(frame, 'histogram');
    assert.ok(bars > 500, `the histogram has ${bars} bar pixels`);
    // The axis chart.js drew covers the data (issue 12: it ended at the last bin's centre, cutting
    // off that bin and a P99 past it) and every percentile marker was drawn inside it.
    const hist = frame.locator('#histogram');
    const xMin = Number(await hist.getAttribute('data-x-min'));
    const xMax = Number(await hist.getAttribute('data-x-max'));
    const lat = first.run.samples.latencyMs;
    assert.ok(xMin <= Math.min(...lat) && xMax >= Math.max(...lat), `axis [${xMin}, ${xMax}] covers the samples`);
    assert.ok(xMax >= first.run.stats!.p99Ms, `axis end ${xMax} >= P99 ${first.run.stats!.p99Ms}`);
    assert.deepEqual(((await hist.getAttribute('data-markers-drawn')) ?? '').split(',').sort(), ['P50', 'P95', 'P99']);
    assert.ok((await chartPixels(frame, 'timeline')) > 100, 'the latency-over-iterations chart has a line');
    assert.match((await frame.locator('.environment').textContent()) ?? '', /onnxruntime|ONNX Runtime/);
    // The run's verdict is shown, the run file's own, with every finding and its fix.
    const validity = first.run.validity!;
    assert.ok(validity, 'the run file has a verdict');
    const verdict = frame.locator('#verdict');
    assert.ok(await verdict.isVisible(), 'the verdict is visible');
    assert.equal(await verdict.getAttribute('data-verdict'), validity.verdict);
    assert.equal(await verdict.locator('li[data-code]').count(), validity.findings.length);
    for (const f of validity.findings) assert.match((await verdict.locator(`li[data-code="${f.code}"]`).textContent()) ?? '', /Fix: \S/);
    await page.screenshot({ path: path.join(OUT, 'result-panel.png') });
  });

  it('a second run, then Compare Runs shows both with the comparison table and overlaid histograms', async () => {
    const known = runFiles(workspace);
    await runBenchmarkThroughPalette(page, 'fp16', 100);
    await panelFrame(page, 'result', 'body[data-status="ok"] [data-metric="p95"]', [first.run.id]);
    second = newestRun(workspace, known);
    assert.equal(second.run.spec.precision, 'fp16');

    await palette(page, 'Jetbench: Compare Runs');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /Compare Runs/ }).waitFor({ timeout: STEP_MS });
    // Both runs: the quick pick's toggle-all box, then OK.
    await page.locator('.quick-input-widget [role="checkbox"][aria-label="Toggle all checkboxes"]').click();
    await page.locator('.quick-input-widget .quick-input-count', { hasText: '2 Selected' }).waitFor({ timeout: STEP_MS });
    await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
    const frame = await panelFrame(page, 'compare', '#compare-table tbody tr');
    const rows = frame.locator('#compare-table tbody tr');
    assert.equal(await rows.count(), 2);
    const headers = await frame.locator('#compare-table thead th').allTextContents();
    assert.deepEqual(headers.slice(0, 4), ['Run', 'Framework', 'Precision', 'Mean (ms)']);
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    const precisions = cells.map((c) => c[2]).sort();
    assert.deepEqual(precisions, ['fp16', 'fp32']);
    const column = (name: string) => {
      const i = headers.indexOf(name);
      assert.ok(i >= 0, `a column ${name} in ${headers.join(' | ')}`);
      return i;
    };
    assert.ok(cells.some((c) => c[column('Different?')] === 'baseline'));
    // Both runs have telemetry (the Orin tree): energy per inference as each run file says it.
    for (const { run } of [first, second]) {
      const row = cells.find((c) => c[2] === run.spec.precision)!;
      assert.equal(row[column('Energy/inf (mJ)')], formatMj(run.telemetry!.energyPerInferenceMj!));
    }
    assert.ok((await chartPixels(frame, 'overlay')) > 50, 'the overlaid histograms are drawn');
    await page.screenshot({ path: path.join(OUT, 'compare-panel.png') });

    // Another baseline: the table is recomputed around it.
    await frame.locator('#baseline').selectOption('1');
    await frame.locator('#compare-table tbody tr:nth-child(2).baseline').waitFor({ timeout: STEP_MS });
    const baselineRow = await frame.locator('#compare-table tbody tr').nth(1).locator('td').allTextContents();
    assert.equal(baselineRow[column('Different?')], 'baseline');
    assert.equal(baselineRow[column('Ratio vs baseline')], '1.00x');
  });

  it('a run shows its power, clocks and temperature live while it goes, from the idle baseline on, then the run file\'s', async () => {
    const known = runFiles(workspace);
    await runBenchmarkThroughPalette(page, 'fp32', 500);
    const frame = await panelFrame(page, 'result', 'body[data-status="live"] #telemetry[data-live="true"]:not([hidden])', [first.run.id, second.run.id]);
    const liveNote = (await frame.locator('.telemetry-summary .live-note').textContent()) ?? '';
    assert.match(liveNote, /^Live: the \d+ readings so far, drawn as they arrive; the run file's figures replace these when the run ends\.$/);
    assert.match((await frame.locator('.telemetry-summary').textContent()) ?? '', /Telemetry: ina3221-hwmon, cpufreq, thermal, gpu-devfreq, soctherm-oc \(\d+ samples/);
    const chart = frame.locator('#telemetry-chart');
    await frame.waitForFunction(() => !!document.getElementById('telemetry-chart')?.dataset.markersDrawn);
    assert.equal(((await chart.getAttribute('data-markers-drawn')) ?? '').split(',')[0], 'idle');
    // The power the sensors read (VDD_IN 12.48 W), before measuring as idle power, then while measuring.
    const powerCard = frame.locator('[data-metric="idle-power"], [data-metric="power"]').first();
    assert.match((await powerCard.textContent()) ?? '', /^(Idle power|Power while measuring) so far12\.48 W$/);
    await frame.locator('#telemetry').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'telemetry-live.png') });
    // The run ends: the run file's telemetry replaces the live one.
    await frame.locator('body[data-status="ok"] #telemetry[data-live="false"]').waitFor({ timeout: 2 * STEP_MS });
    third = newestRun(workspace, known);
    const run = third.run;
    assert.deepEqual(((await chart.getAttribute('data-markers-drawn')) ?? '').split(','), ['idle', 'warm-up', 'measure']);
    assert.equal(await frame.locator('.telemetry-summary .live-note').count(), 0);
    assert.equal(await frame.locator('[data-metric="energy"] .label').textContent(), 'Energy / inference');
    assert.equal(await frame.locator('[data-metric="energy"]').getAttribute('data-value-mj'), String(run.telemetry!.energyPerInferenceMj));
  });

  it('a run with telemetry (an Orin Nano device tree): energy cards, the power/clock/temperature chart with every phase marked and every sample\'s latency on its time axis, a row per phase', async () => {
    // The CLI measures on a device root whose sensors hold a real tegrastats line (test/helpers/jetsonTrees.ts).
    const root = writeJetsonTree(mkdtempSync(path.join(os.tmpdir(), 'jetbench-orin-')), 'orin-nano-jp6');
    const out = path.join(workspace, '.jetbench', 'runs', 'orin-telemetry.json');
    // The board throttles for over-current while the run measures: oc3 12 -> 15.
    const oc = overCurrentWhileMeasuring(root);
    const cli = await runCli(['bench', '--model', 'tiny', '--warmup', '3', '--iterations', '40', '--threads', '1', '--label', 'orin telemetry', '--out', out], {
      cwd: workspace,
      env: { JETBENCH_DEVICE_ROOT: root, JETBENCH_TELEMETRY_IDLE_MS: '800', JETBENCH_TELEMETRY_HZ: '20' },
      onStderr: (text) => oc.onStderr(text),
    });
    assert.ok(oc.bumped);
    assert.equal(cli.code, 0, cli.stderr);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
    const t = run.telemetry!;
    assert.ok(t && t.energyPerInferenceMj !== null, 'the run has energy per inference');
    assert.equal(overCurrentRises(t.series).length, 1, 'the run file says where oc3 rose');
    await palette(page, 'Jetbench: Open Run');
    await pick(page, /Open Run/, 'orin telemetry');
    const frame = await panelFrame(page, 'result', '#telemetry:not([hidden]) #telemetry-chart', [first.run.id, second.run.id, third.run.id]);
    assert.equal(await frame.locator('[data-metric="energy"]').getAttribute('data-value-mj'), String(t.energyPerInferenceMj));
    assert.match((await frame.locator('[data-metric="energy"] .value').textContent()) ?? '', new RegExp(`^${formatMj(t.energyPerInferenceMj!).replace('.', '\\.')} mJ`));
    assert.match((await frame.locator('[data-metric="power"] .value').textContent()) ?? '', /^12\.48 W$/);
    // The chart's x axis covers every sample and every phase start, and each phase's marker was drawn.
    const chart = frame.locator('#telemetry-chart');
    await frame.waitForFunction(() => !!document.getElementById('telemetry-chart')?.dataset.xMax);
    const xMin = Number(await chart.getAttribute('data-x-min'));
    const xMax = Number(await chart.getAttribute('data-x-max'));
    const last = t.series.tMs[t.series.tMs.length - 1]! / 1000;
    assert.ok(xMin <= 0 && xMax >= last, `axis [${xMin}, ${xMax}] covers 0..${last} s`);
    // Every measured sample's latency is on the same time axis, at its start, the last one inside it.
    assert.equal(t.sampleStartMs?.length, 40, 'the run recorded each sample\'s start');
    assert.equal(await chart.getAttribute('data-latency-samples'), '40');
    const lastStart = Math.max(...t.sampleStartMs!) / 1000;
    assert.ok(xMax >= lastStart, `axis ends at ${xMax} s, the last sample starts at ${lastStart} s`);
    assert.ok(lastStart > t.phases.find((p) => p.phase === 'measure')!.startMs / 1000, 'the samples fall in the measure phase');
    // Each phase's start, and where the over-current counter rose (inside the axis).
    assert.deepEqual(((await chart.getAttribute('data-markers-drawn')) ?? '').split(','), ['idle', 'warm-up', 'measure', 'over-current: oc3 +3']);
    assert.ok(xMax >= overCurrentRises(t.series)[0]!.atMs / 1000);
    assert.match((await frame.locator('.telemetry-summary').textContent()) ?? '', /Over-current events \(Orin soctherm\): oc3 \+3 at \d+\.\d\d s/);
    assert.equal(await frame.locator('#verdict li[data-code="over-current-throttled"]').count(), 1);
    assert.ok((await chartPixels(frame, 'telemetry-chart')) > 50, 'the first line (power) is drawn');
    const phases = await frame.locator('.telemetry-phases tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    assert.deepEqual(phases, ['idle', 'warm-up', 'measure']);
    assert.match((await frame.locator('.telemetry-summary').textContent()) ?? '', /Power \(VDD_IN\): measuring mean 12\.48 W/);
    await frame.locator('#telemetry').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'telemetry-panel.png') });
  });

  it('a GPU run that hit its power cap (NVML telemetry measured on an H200): where the throttling began is marked on the chart, how long it lasted said above it', async () => {
    const telemetry = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'nvml', 'h200-heavy.telemetry.json'), 'utf8')) as Telemetry;
    const run = { ...fakeRun({ latencyMs: latencies(200, 9), label: 'h200 power cap', hostname: 'h200' }), telemetry };
    const runs = path.join(workspace, '.jetbench', 'runs');
    // The panels open before (the Orin run's has a telemetry chart too) are not this one.
    const others = readdirSync(runs).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(path.join(runs, f), 'utf8')) as RunFile).id);
    writeFileSync(path.join(runs, 'h200-power-cap.json'), JSON.stringify(run));
    await palette(page, 'Jetbench: Open Run');
    await pick(page, /Open Run/, 'h200 power cap');
    const frame = await panelFrame(page, 'result', '#telemetry:not([hidden]) #telemetry-chart', others);
    await frame.waitForFunction(() => !!document.getElementById('telemetry-chart')?.dataset.markersDrawn);
    const chart = frame.locator('#telemetry-chart');
    assert.deepEqual(((await chart.getAttribute('data-markers-drawn')) ?? '').split(','), ['idle', 'measure', 'throttled: software power cap']);
    const span = throttleSpans(telemetry.series)[0]!;
    assert.ok(Number(await chart.getAttribute('data-x-max')) >= span.endMs / 1000, 'the axis reaches the end of the throttled span');
    assert.match((await frame.locator('.telemetry-summary').textContent()) ?? '', /GPU throttled \(NVML\) \d+\.\d s of the \d+\.\d s measured, in 1 span: software power cap/);
    // Its idle row reads max < mean (two NVML sensors): the note under the table says why.
    assert.match((await frame.locator('.telemetry-phases .power-sources').textContent()) ?? '', /^Mean power is the energy counter's .* \(idle: max 125\.42 W, mean 128\.10 W\)\.$/);
    await frame.locator('#telemetry').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'telemetry-throttled.png') });
  });

  it('an imported trtexec run opens with its layer profile, slowest layer first', async () => {
    const fixtures = path.join(ROOT, 'test', 'fixtures', 'trtexec');
    const out = path.join(workspace, '.jetbench', 'runs', 'trtexec-import.json');
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'import', 'trtexec', path.join(fixtures, 'trt10.16-dumpProfile.log'), '--times', path.join(fixtures, 'made-exportTimes.json'), '--label', 'trtexec layers', '--out', out], { cwd: workspace, encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
    await palette(page, 'Jetbench: Open Run');
    await pick(page, /Open Run/, 'trtexec layers');
    const frame = await panelFrame(page, 'result', '#operators:not([hidden]) tbody tr', [first.run.id, second.run.id]);
    assert.match((await frame.locator('#operators h2').textContent()) ?? '', /Layers \(trtexec's profile, average of 18362 iterations\)/);
    const rows = await frame.locator('#operators tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    assert.equal(rows.length, run.operators!.length);
    const slowest = [...run.operators!].sort((a, b) => b.ms - a.ms)[0]!;
    assert.equal(rows[0]![1], slowest.name);
    assert.equal(rows[0]![2], formatMs(slowest.ms));
    assert.match((await frame.locator('.environment').textContent()) ?? '', /TensorRT 10\.16\.1/);
    await frame.locator('#operators').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'trtexec-layers.png') });
  });

  it('a run with a fidelity check (nanodet-g int8 on vtest frames) shows its accuracy against fp32: the table a person reads equals the run file', async () => {
    const out = path.join(workspace, '.jetbench', 'runs', 'int8-fidelity.json');
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'bench', '--model', 'nanodet-g-int8', '--warmup', '2', '--iterations', '20', '--fidelity', '12', '--label', 'int8 fidelity', '--out', out], {
      cwd: workspace,
      encoding: 'utf8',
      env: { ...process.env, JETBENCH_CACHE_DIR: path.join(ROOT, 'test-output', 'cache') },
    });
    assert.equal(cli.status, 0, cli.stderr);
    const run = JSON.parse(readFileSync(out, 'utf8')) as RunFile;
    const f = run.fidelity!;
    assert.ok(f, 'the run has its fidelity');
    await palette(page, 'Jetbench: Open Run');
    await pick(page, /Open Run/, 'int8 fidelity');
    const frame = await panelFrame(page, 'result', '#fidelity:not([hidden]) tbody tr', [first.run.id, second.run.id]);
    assert.equal(await frame.locator('#fidelity h2').textContent(), 'Accuracy against nanodet-g (fp32)');
    const rows = await frame.locator('#fidelity tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
    const o = f.result.overall;
    assert.deepEqual(rows[0], ['all', '12', String(o.referenceBoxes), String(o.testBoxes), pct(o.ap50), pct(o.precision), pct(o.recall), pct(o.f1), o.meanMatchedIou === null ? 'n/a' : o.meanMatchedIou.toFixed(3)]);
    // A row per complexity bucket that has frames, then per box size: no two rows with one name.
    const names = rows.map((r) => r[0]);
    assert.equal(new Set(names).size, names.length, names.join(', '));
    assert.deepEqual(names.slice(1, 1 + f.result.byComplexity.length), f.result.byComplexity.map((b) => b.bucket));
    await frame.locator('#fidelity').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUT, 'accuracy-panel.png') });
  });

  it('configurations measured interleaved by the CLI (bench --vs): compare judges them by their trials, with the interval and the interleaving noted', async () => {
    const runsDir = path.join(workspace, '.jetbench', 'runs');
    const known = runFiles(workspace);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'bench', '--model', 'tiny', '--threads', '1', '--vs', '--threads 2', '--trials', '3', '--warmup', '3', '--iterations', '30', '--quiet', '--out', runsDir], {
      cwd: workspace,
      encoding: 'utf8',
      env: { ...process.env, JETBENCH_CACHE_DIR: path.join(ROOT, 'test-output', 'cache') },
    });
    assert.equal(cli.status, 0, cli.stderr);
    const fresh = [...runFiles(workspace)].filter((f) => !known.has(f));
    assert.equal(fresh.length, 2, fresh.join(', '));
    const runs = fresh.map((f) => JSON.parse(readFileSync(path.join(runsDir, f), 'utf8')) as RunFile);
    assert.deepEqual(runs.map((r) => r.spec.label).sort(), ['threads 1', 'threads 2']);
    await palette(page, 'Jetbench: Compare Runs');
    await page.locator('.quick-input-widget .quick-input-title', { hasText: /Compare Runs/ }).waitFor({ timeout: STEP_MS });
    // Only the two interleaved runs: filter the list by their labels, then toggle the visible ones.
    await page.locator('.quick-input-widget .quick-input-box input').fill('threads');
    await page.locator('.quick-input-widget [role="checkbox"][aria-label="Toggle all checkboxes"]').click();
    await page.locator('.quick-input-widget .quick-input-count', { hasText: '2 Selected' }).waitFor({ timeout: STEP_MS });
    await page.locator('.quick-input-widget .quick-input-box input').press('Enter');
    const frame = await panelFrame(page, 'compare', '#compare-table tbody tr:nth-child(2) td');
    const cells = await frame.locator('#compare-table tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    assert.deepEqual(cells.map((c) => c[0]).sort(), ['threads 1', 'threads 2'], 'the rows are named by what differs');
    const candidate = cells.find((c) => c[9] !== 'baseline')!;
    // Judged by the trials: the ratio with its 95% interval, never "(1 trial)".
    assert.match(candidate[8]!, /^\d\.\d\dx \(\d\.\d\d-\d\.\d\d\)$/, candidate.join(' | '));
    assert.doesNotMatch(candidate[9]!, /1 trial/);
    assert.match((await frame.locator('.notes').textContent()) ?? '', /Interleaved: 2 of these runs were measured together.*3 rounds/);
    await page.screenshot({ path: path.join(OUT, 'compare-interleaved.png') });
  });

  it('no errors from the panels (CSP violations, exceptions) in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });

  // After the console check: the extension logs the failed connection to the browser console too.
  it('a bad SSH host: one clear error notification naming the device, no second generic one from the language client', async () => {
    await palette(page, 'Jetbench: Connect to Device');
    await pick(page, /Connect to Device/, 'nowhere');
    const toasts = page.locator('.notifications-toasts .notification-toast .notification-list-item-message');
    await toasts.filter({ hasText: /cannot connect to nowhere/ }).first().waitFor({ timeout: STEP_MS });
    // The library's toast came before the clear one (as its start failed); give a late one time.
    await page.waitForTimeout(2000);
    await page.screenshot({ path: path.join(OUT, 'bad-host.png') });
    const texts = (await toasts.allTextContents()).filter((t) => /nowhere/.test(t));
    assert.equal(texts.length, 1, `toasts about the device: ${JSON.stringify(texts)}`);
    assert.ok(!texts.some((t) => /couldn't create connection/.test(t)));
    await palette(page, 'Notifications: Clear All Notifications');
  });
});
