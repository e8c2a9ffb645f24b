// The folder the VS Code suites open: settings that keep tests quiet (no delete confirmation), a
// spec file with two runs, a workspace .onnx model. A fresh temporary folder per run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './codeServer';

/** Built-in models generated once per test run (shared with the CLI suites' cache). */
export const TEST_CACHE_DIR = path.join(ROOT, 'test-output', 'cache');

export function makeTestWorkspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jetbench-vscode-ws-'));
  mkdirSync(path.join(dir, '.vscode'));
  writeFileSync(
    path.join(dir, '.vscode', 'settings.json'),
    JSON.stringify(
      {
        'jetbench.confirmDelete': false,
        'jetbench.run.warmup': 3,
        'jetbench.trace.server': 'messages',
        // Keep the workbench quiet: no welcome page over the panels, no chat side bar.
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
      null,
      2,
    ),
  );
  writeFileSync(
    path.join(dir, 'experiments.jetbench.json'),
    JSON.stringify(
      {
        defaults: { device: 'local', iterations: 30, warmup: 2 },
        runs: [
          { model: 'tiny', backend: 'onnxruntime', label: 'spec: tiny fp32' },
          { model: 'tiny', precision: 'fp16', label: 'spec: tiny fp16' },
        ],
      },
      null,
      2,
    ) + '\n',
  );
  mkdirSync(path.join(dir, 'models'));
  const gen = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'models', 'generate', 'tiny', '--out', path.join(dir, 'models', 'detector.onnx')], {
    encoding: 'utf8',
    env: { ...process.env, JETBENCH_CACHE_DIR: TEST_CACHE_DIR },
  });
  if (gen.status !== 0) throw new Error(`generating the workspace model failed: ${gen.stderr}`);
  return dir;
}
