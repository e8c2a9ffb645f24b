// Loaded by bench/ext-activation.ts as the extension host's test module: activates the extension
// once, cold (the probe's workspace has nothing that activates it on start-up), and writes the time.
import { renameSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { JetbenchApi } from '../src/extension';

export async function run(): Promise<void> {
  const out = process.env.JETBENCH_BENCH_RESULTS;
  if (!out) throw new Error('JETBENCH_BENCH_RESULTS is not set');
  const ext = vscode.extensions.getExtension<JetbenchApi>('jetbench.jetbench');
  if (!ext) throw new Error('the extension under development is not loaded');
  const wasActive = ext.isActive;
  const started = performance.now();
  const api = await ext.activate();
  const activateMs = performance.now() - started;
  writeFileSync(`${out}.tmp`, JSON.stringify({ wasActive, activateMs, activateBodyMs: api.activationMs }));
  renameSync(`${out}.tmp`, out);
}
