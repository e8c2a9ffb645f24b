// The Runs view over the workspace's run files (bad files included), Open, Compare with its
// baseline and Markdown export, Export Report, Label, Delete; and the spec files' CodeLens.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { RUN_SCHEMA_VERSION } from '../../../contract/protocol';
import { compareNotes, compareTable } from '../../../src/core/report';
import type { RunOutcome } from '../../../src/runs/runSession';
import { jetbench, readRun, runsDir, until, workspaceDir } from './util';

/** Cells of a Markdown table row as a reader sees them: split on pipes not escaped by a backslash, escapes undone. */
const mdCells = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\(.)/g, '$1'));

describe('runs view, compare, export', () => {
  const files: string[] = [];

  before(async () => {
    const api = await jetbench();
    await api.catalog.refresh();
    // Two real runs to work on (earlier suites made more; these are this suite's own).
    for (const label of ['view A', 'view B']) {
      const o = await vscode.commands.executeCommand<RunOutcome>('jetbench.runBenchmark', { device: 'local', model: 'tiny', iterations: 40, warmup: 2, label });
      assert.equal(o.status, 'ok');
      files.push(o.file!);
    }
  });

  it('lists corrupt, foreign and newer-schema files with a warning, and still every run', async () => {
    const api = await jetbench();
    const dir = runsDir();
    writeFileSync(path.join(dir, 'zz-corrupt.json'), '{"schemaVersion": 1, "id": ');
    writeFileSync(path.join(dir, 'zz-foreign.json'), JSON.stringify({ compilerOptions: {} }));
    const newer = { ...JSON.parse(readFileSync(files[0]!, 'utf8')), schemaVersion: RUN_SCHEMA_VERSION + 1, id: 'from-the-future' };
    writeFileSync(path.join(dir, 'zz-newer.json'), JSON.stringify(newer));
    await vscode.commands.executeCommand('jetbench.refreshRuns');
    const problems = api.runsTree.problemLeaves().map((p) => [p.label, p.description]);
    assert.deepEqual(problems, [
      ['zz-corrupt.json', 'unreadable'],
      ['zz-foreign.json', 'foreign'],
      ['zz-newer.json', 'newer jetbench'],
    ]);
    for (const f of files) assert.ok(api.runsTree.runLeaves().some((l) => l.file === f), f);
    // Opening a bad file fails with a message, not an exception.
    assert.equal(await vscode.commands.executeCommand('jetbench.openRun', path.join(dir, 'zz-newer.json')), undefined);
    // The tree groups by model, then device.
    const top = api.runsTree.getChildren();
    const tiny = top.find((n) => n.kind === 'model' && n.label === 'tiny');
    assert.ok(tiny && tiny.kind === 'model');
    assert.equal(tiny.devices[0]!.label, 'local');
    for (const name of ['zz-corrupt.json', 'zz-foreign.json', 'zz-newer.json']) await vscode.workspace.fs.delete(vscode.Uri.file(path.join(dir, name)));
    await vscode.commands.executeCommand('jetbench.refreshRuns');
    assert.deepEqual(api.runsTree.problemLeaves(), []);
  });

  it('Open Run shows a stored run in a panel that draws it', async () => {
    const api = await jetbench();
    const existing = api.panels.resultPanel(readRun(files[0]!).id);
    existing?.dispose();
    const runId = await vscode.commands.executeCommand<string>('jetbench.openRun', files[0]);
    const panel = api.panels.resultPanel(runId)!;
    const drawn = await panel.waitForRender((r) => r.final);
    assert.ok(drawn.histogramPixels > 100);
  });

  it('Compare shows the report module\'s table; a new baseline redraws; Markdown export reproduces it', async () => {
    const api = await jetbench();
    const r = await vscode.commands.executeCommand<{ files: string[]; baselineIndex: number }>('jetbench.compareRuns', undefined, files);
    assert.deepEqual(r.files, files);
    const panel = api.panels.comparePanels.find((p) => p.files.join() === files.join())!;
    const first = await panel.waitForRender(() => true);
    assert.equal(first.rows, 2);
    assert.ok(first.histogramPixels > 50, `${first.histogramPixels}`);
    panel.setBaseline(1);
    await panel.waitForRender(() => panel.renders.length >= 2);
    const shown = panel.message().table;
    assert.equal(shown.rows[1]![8], '1.00x');
    assert.equal(shown.rows[1]![9], 'baseline');
    assert.deepEqual(shown, compareTable(files.map(readRun), 1));
    // The notes under it are the report module's too (with the cross-span footnote when a ratio crosses).
    assert.deepEqual(panel.message().notes, compareNotes(files.map(readRun), 1));

    const out = path.join(workspaceDir(), 'compare.md');
    const written = await vscode.commands.executeCommand<string>('jetbench.exportReport', { files, format: 'md', out, baselineIndex: panel.baselineIndex });
    assert.equal(written, out);
    const md = readFileSync(out, 'utf8');
    const lines = md.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| Run |'));
    assert.ok(header >= 0, md);
    assert.deepEqual(mdCells(lines[header]!), shown.headers);
    assert.deepEqual([mdCells(lines[header + 2]!), mdCells(lines[header + 3]!)], shown.rows);
  });

  it('Export Report writes CSV and JSON', async () => {
    const csv = await vscode.commands.executeCommand<string>('jetbench.exportReport', { files, format: 'csv', out: path.join(workspaceDir(), 'runs.csv') });
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, /^id,createdAt,status,model/);
    const json = await vscode.commands.executeCommand<string>('jetbench.exportReport', { files, format: 'json', out: path.join(workspaceDir(), 'runs.json') });
    const items = JSON.parse(readFileSync(json, 'utf8')) as Array<{ id: string }>;
    assert.deepEqual(
      items.map((i) => i.id),
      files.map((f) => readRun(f).id),
    );
  });

  it('Label changes the run file and the view; Delete removes the file and the item', async () => {
    const api = await jetbench();
    const file = files[1]!;
    assert.equal(await vscode.commands.executeCommand('jetbench.labelRun', file, 'relabelled'), 'relabelled');
    assert.equal(readRun(file).spec.label, 'relabelled');
    assert.match(api.runsTree.runLeaves().find((l) => l.file === file)!.label, /^relabelled — /);
    const deleted = await vscode.commands.executeCommand<string[]>('jetbench.deleteRun', file);
    assert.deepEqual(deleted, [file]);
    assert.ok(!existsSync(file));
    assert.ok(!api.runsTree.runLeaves().some((l) => l.file === file));
  });
});

describe('spec files', () => {
  it('a *.jetbench.json gets a "Run on local" lens per run; the lens runs it into the Runs view', async () => {
    const api = await jetbench();
    const uri = vscode.Uri.file(path.join(workspaceDir(), 'experiments.jetbench.json'));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.deepEqual(titles, ['$(run-all) Run all 2', '$(play) Run on local', '$(play) Run on local']);
    const lens = lenses[1]!;
    const outcomes = await vscode.commands.executeCommand<RunOutcome[]>(lens.command!.command, ...(lens.command!.arguments ?? []));
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]!.status, 'ok');
    const run = readRun(outcomes[0]!.file!);
    assert.equal(run.spec.label, 'spec: tiny fp32');
    await until(api.catalog.onDidChange, () => api.runsTree.runLeaves().some((l) => l.file === outcomes[0]!.file), 'the spec run in the Runs view');
  });

  it('the contributed JSON schema flags a wrong field in a spec file', async () => {
    const uri = vscode.Uri.file(path.join(workspaceDir(), 'wrong.jetbench.json'));
    writeFileSync(uri.fsPath, '{\n  "runs": [{ "model": "tiny", "iterationz": 10 }]\n}\n');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const problems = () => vscode.languages.getDiagnostics(uri).map((d) => d.message);
    await until(vscode.languages.onDidChangeDiagnostics, () => problems().length > 0, 'the JSON language server to check the spec file');
    assert.ok(problems().some((m) => /iterationz/.test(m) || /not allowed/i.test(m)), problems().join('\n'));
  });

  it("the Devices view's first line for a connected device is its sensors now (or why none can be read)", async () => {
    const api = await jetbench();
    await api.devicesTree.refreshTelemetry();
    const local = api.devicesTree.getChildren().find((n) => n.kind === 'device' && n.device.name === 'local')!;
    const [first] = api.devicesTree.getChildren(local);
    assert.ok(first && first.kind === 'detail', 'the connected local device has details');
    assert.equal(first.label, 'Now');
    // This machine's sensors as the agent read them: a reading, or the plain reason there is none.
    assert.match(first.value, /( W| °C|MHz)|^no sensor readable \(no cpufreq, thermal zones, power monitors or NVML\)$/);
  });
});

