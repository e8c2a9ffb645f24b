// The extension's manifest agrees with the code: every command registered from the one list is
// contributed and vice versa, menus name real commands, settings match the typed settings,
// activation stays lazy, and every file the manifest points at exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { COMMAND_IDS } from '../../src/commands/ids';
import { SETTING_KEYS } from '../../src/vscode/settingsModel';
import { COMPARE_VIEW_TYPE, RESULT_VIEW_TYPE } from '../../contract/panelMessages';

const ROOT = path.resolve(__dirname, '../..');
interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    menus: Record<string, Array<{ command: string }>>;
    configuration: { properties: Record<string, unknown> };
    views: Record<string, Array<{ id: string }>>;
    jsonValidation: Array<{ url: string }>;
    walkthroughs: Array<{ steps: Array<{ media: { markdown?: string } }> }>;
    viewsContainers: { activitybar: Array<{ icon: string }> };
  };
}
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;

describe('extension manifest', () => {
  it('contributes exactly the registered commands, in category Jetbench', () => {
    assert.deepEqual(pkg.contributes.commands.map((c) => c.command).sort(), [...COMMAND_IDS].sort());
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'Jetbench', c.command);
    for (const id of ['jetbench.addDevice', 'jetbench.deployAgent', 'jetbench.runBenchmark', 'jetbench.openRun', 'jetbench.compareRuns', 'jetbench.exportReport', 'jetbench.showLog']) {
      assert.ok((COMMAND_IDS as readonly string[]).includes(id), id);
    }
  });

  it('menus name contributed commands only', () => {
    for (const [menu, items] of Object.entries(pkg.contributes.menus)) {
      for (const item of items) assert.ok((COMMAND_IDS as readonly string[]).includes(item.command), `${menu}: ${item.command}`);
    }
  });

  it('declares every typed setting', () => {
    const declared = Object.keys(pkg.contributes.configuration.properties);
    for (const key of Object.values(SETTING_KEYS)) assert.ok(declared.includes(`jetbench.${key}`), key);
  });

  it('activates lazily: never on startup, only on its views, commands, panels and files', () => {
    assert.ok(!pkg.activationEvents.includes('*'));
    assert.ok(!pkg.activationEvents.includes('onStartupFinished'));
    assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${RESULT_VIEW_TYPE}`));
    assert.ok(pkg.activationEvents.includes(`onWebviewPanel:${COMPARE_VIEW_TYPE}`));
    assert.deepEqual(
      pkg.contributes.views.jetbench!.map((v) => v.id),
      ['jetbench.devices', 'jetbench.runs'],
    );
  });

  it('points at files that exist', () => {
    for (const v of pkg.contributes.jsonValidation) assert.ok(existsSync(path.join(ROOT, v.url)), v.url);
    for (const s of pkg.contributes.walkthroughs.flatMap((w) => w.steps)) if (s.media.markdown) assert.ok(existsSync(path.join(ROOT, s.media.markdown)), s.media.markdown);
    for (const c of pkg.contributes.viewsContainers.activitybar) assert.ok(existsSync(path.join(ROOT, c.icon)), c.icon);
  });
});

describe('the extension bundle stays light', () => {
  it('activation loads neither the language client, JSON-RPC nor ssh2: they come with dist/agentClient.js on first connect', async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [path.join(ROOT, 'src/extension.ts')],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'cjs',
      external: ['vscode', 'onnxruntime-node', 'cpu-features', '*.node'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((p) => p.includes('src/devices/deviceRegistry')), 'the registry is in the bundle');
    const heavy = inputs.filter((p) => /node_modules\/(ssh2|vscode-languageclient|vscode-jsonrpc)\//.test(p) || /src\/core\/(sshSession|deploy|transport|agentConnection)\.ts$/.test(p));
    assert.deepEqual(heavy, [], `pulled into dist/extension.js: ${heavy.slice(0, 5).join(', ')}`);
  });
});
