// Pure logic of the extension host: settings sanitising, the Runs view's grouping over the run
// store's listing (bad files included), spec files, the restart policy, quick-pick memory.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RUN_SCHEMA_VERSION } from '../../contract/protocol';
import { listRuns, readRunFile, relabelRun, writeRunFile } from '../../src/core/runStore';
import { RESTART_DELAYS_MS, RestartPolicy } from '../../src/devices/restartPolicy';
import { parseSshTarget, sshConfigHostAliases } from '../../src/core/devices';
import { lastFirst, phaseFromProgress, readLastChoices } from '../../src/runs/livePhase';
import { parseSpecFile, selectSpecRuns } from '../../src/specs/specFile';
import { buildRunsTree } from '../../src/views/runsTree';
import { DEFAULT_SETTINGS, sanitiseSettings, SETTING_KEYS } from '../../src/vscode/settingsModel';
import { hostKeyQuestion } from '../../src/core/sshKnownHosts';
import { fakeRun, latencies } from '../helpers/fakeRun';

describe('settings', () => {
  const from = (values: Record<string, unknown>) => sanitiseSettings((k) => values[k]);

  it('unset settings take their defaults without warnings', () => {
    assert.deepEqual(from({}), { settings: DEFAULT_SETTINGS, warnings: [] });
  });

  it('replaces bad values by defaults and names the setting and the fix', () => {
    const { settings, warnings } = from({
      [SETTING_KEYS.iterations]: 0,
      [SETTING_KEYS.warmup]: 2.5,
      [SETTING_KEYS.threads]: 'four',
      [SETTING_KEYS.redrawIntervalMs]: 10,
      [SETTING_KEYS.trace]: 'loud',
      [SETTING_KEYS.defaultDevice]: 'nowhere',
    });
    assert.equal(settings.iterations, 100);
    assert.equal(settings.warmup, 20);
    assert.equal(settings.threads, null);
    assert.equal(settings.redrawIntervalMs, 250);
    assert.equal(settings.trace, 'off');
    assert.equal(settings.defaultDevice, 'local');
    assert.equal(warnings.length, 6);
    assert.match(warnings.join('\n'), /jetbench\.run\.iterations must be a whole number from 1/);
    assert.match(warnings.join('\n'), /jetbench\.defaultDevice names "nowhere"/);
  });

  it('keeps good devices and skips bad ones, each with its reason', () => {
    const { settings, warnings } = from({
      devices: [
        { name: 'xavier', host: '192.168.55.1', user: 'nvidia', port: 22 },
        { name: 'xavier', host: 'dup' },
        { name: 'local', host: 'x' },
        { name: 'bad name', host: 'x' },
        { name: 'nohost' },
        { name: 'orin', host: 'orin.lan', port: 70000 },
        'text',
      ],
      [SETTING_KEYS.defaultDevice]: 'orin',
    });
    assert.deepEqual(
      settings.devices.map((d) => [d.name, d.host, d.port, d.user]),
      [
        ['xavier', '192.168.55.1', 22, 'nvidia'],
        ['orin', 'orin.lan', null, null],
      ],
    );
    assert.equal(settings.defaultDevice, 'orin');
    assert.equal(warnings.length, 6, warnings.join('\n'));
  });

  it('checks the SSH fields as the CLI does and keeps the checked entry for connecting', () => {
    const { settings, warnings } = from({
      devices: [
        { name: 'nano', host: 'nano.lan', identityFile: '~/.ssh/nano', nativeBuild: 'never', agentIdleMinutes: 5 },
        { name: 'tx2', host: 'tx2.lan', nativeBuild: 'sometimes' },
        { name: 'agx', host: 'agx.lan', colour: 'green' },
      ],
    });
    assert.deepEqual(settings.devices.map((d) => d.name), ['nano']);
    assert.deepEqual(settings.devices[0]!.config, { name: 'nano', host: 'nano.lan', identityFile: '~/.ssh/nano', nativeBuild: 'never', agentIdleMinutes: 5 });
    assert.match(warnings[0]!, /jetbench\.devices\[1\] \("tx2"\): "nativeBuild" must be "auto" or "never"; skipping it/);
    assert.match(warnings[1]!, /jetbench\.devices\[2\] \("agx"\): unknown field "colour"/);
  });
});

describe('SSH prompts', () => {
  it('the host-key question shows the SHA256 fingerprint, the key type and where to compare it', () => {
    const q = hostKeyQuestion('xavier', { host: '192.168.55.1', port: 2222, fingerprintSha256: 'SHA256:abc+/def', keyType: 'ssh-ed25519', known: 'unknown' });
    assert.match(q.message, /host key of 'xavier' is not known/);
    assert.match(q.detail, /192\.168\.55\.1:2222 offers this ssh-ed25519 key:\n\nSHA256:abc\+\/def\n/);
    assert.match(q.detail, /ssh-keygen -lf/);
  });
});

describe('runs listing and the Runs view tree', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jetbench-runs-'));
    const runs = [
      fakeRun({ id: 'a', model: 'tiny', latencyMs: latencies(50, 2), createdAt: '2025-01-01T10:00:00.000Z' }),
      fakeRun({ id: 'b', model: 'tiny', latencyMs: latencies(50, 3), createdAt: '2025-01-02T10:00:00.000Z', label: 'second' }),
      fakeRun({ id: 'c', model: 'tiny', device: 'xavier', hostname: 'xavier-01', latencyMs: latencies(50, 9) }),
      fakeRun({ id: 'd', model: 'yolov5s', latencyMs: latencies(50, 80), status: 'cancelled' }),
    ];
    for (const r of runs) await writeRunFile(path.join(dir, `${r.id}.json`), r);
    await writeFile(path.join(dir, 'corrupt.json'), '{"schemaVersion": 1, "spec": ');
    await writeFile(path.join(dir, 'foreign.json'), JSON.stringify({ name: 'package', version: '1.0.0' }));
    await writeFile(path.join(dir, 'newer.json'), JSON.stringify({ ...runs[0], schemaVersion: RUN_SCHEMA_VERSION + 1 }));
    await writeFile(path.join(dir, 'damaged.json'), JSON.stringify({ ...runs[0], device: undefined, samples: { latencyMs: 'x' } }));
    await writeFile(path.join(dir, 'notes.txt'), 'not json at all');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('lists every .json with its run or its problem, never throwing', async () => {
    const listed = await listRuns(dir);
    const byName = new Map(listed.map((l) => [path.basename(l.file), l]));
    assert.equal(listed.length, 8);
    assert.equal(byName.get('a.json')!.run!.id, 'a');
    assert.equal(byName.get('corrupt.json')!.problem!.kind, 'unreadable');
    assert.equal(byName.get('foreign.json')!.problem!.kind, 'foreign');
    assert.equal(byName.get('newer.json')!.problem!.kind, 'newer');
    assert.match(byName.get('newer.json')!.problem!.message, /update jetbench/);
    assert.equal(byName.get('damaged.json')!.problem!.kind, 'invalid');
    assert.match(byName.get('damaged.json')!.problem!.message, /the run lacks "device".*samples\.latencyMs must be array/);
    assert.deepEqual(await listRuns(path.join(dir, 'missing')), []);
  });

  it('groups by model, then device (local first), newest first; problems last', async () => {
    const tree = buildRunsTree(await listRuns(dir));
    assert.deepEqual(
      tree.map((g) => g.label),
      ['tiny', 'yolov5s', 'Files that are not runs'],
    );
    const tiny = tree[0]!;
    assert.ok(tiny.kind === 'model');
    assert.deepEqual(
      tiny.devices.map((d) => [d.label, d.runs.map((r) => r.run.id)]),
      [
        ['local', ['b', 'a']],
        ['xavier', ['c']],
      ],
    );
    assert.match(tiny.devices[0]!.runs[0]!.label, /^second — onnxruntime fp32$/);
    assert.match(tiny.devices[1]!.description, /xavier-01 · 1 run/);
    const yolo = tree[1]!;
    assert.ok(yolo.kind === 'model');
    assert.match(yolo.devices[0]!.runs[0]!.label, /\(cancelled\)$/);
    const problems = tree[2]!;
    assert.ok(problems.kind === 'problems');
    assert.deepEqual(
      problems.files.map((f) => [f.label, f.description]),
      [
        ['corrupt.json', 'unreadable'],
        ['damaged.json', 'invalid'],
        ['foreign.json', 'foreign'],
        ['newer.json', 'newer jetbench'],
      ],
    );
  });

  it('relabels a run in place, atomically', async () => {
    const file = path.join(dir, 'a.json');
    await relabelRun(file, 'baseline');
    assert.equal((await readRunFile(file)).spec.label, 'baseline');
    await relabelRun(file, null);
    assert.equal((await readRunFile(file)).spec.label, null);
  });
});

describe('spec files', () => {
  const base = { device: 'local', warmup: 20, iterations: 100, threads: null };

  it('completes each run from defaults, then the base; offsets point at each run', () => {
    const text = `{
  // comments are allowed
  "defaults": { "iterations": 300, "backend": "onnxruntime" },
  "runs": [
    { "model": "tiny" },
    { "model": "yolov5s", "precision": "fp16", "label": "half", "device": "xavier" },
    { "model": "yolov5n-int8", "iterations": 5, },
  ]
}`;
    const parsed = parseSpecFile(text, base);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.runs.length, 3);
    const [a, b, c] = parsed.runs.map((r) => r.spec!);
    assert.deepEqual([a!.model, a!.iterations, a!.warmup, a!.device, a!.precision], ['tiny', 300, 20, 'local', 'fp32']);
    assert.deepEqual([b!.precision, b!.label, b!.device], ['fp16', 'half', 'xavier']);
    assert.deepEqual([c!.precision, c!.iterations], ['int8', 5]);
    assert.equal(text.slice(parsed.runs[0]!.offset, parsed.runs[0]!.offset + parsed.runs[0]!.length), '{ "model": "tiny" }');
  });

  it('names what is wrong per run and for the file', () => {
    const parsed = parseSpecFile('{"runs": [{"backend": "onnxruntime"}, {"model": "tiny", "iterations": 0, "bogus": 1}, 7]}', base);
    assert.match(parsed.runs[0]!.problems[0]!, /"model" is required/);
    assert.deepEqual(parsed.runs[1]!.problems, [
      '"bogus" is not a known field (known: device, model, backend, precision, warmup, warmupMs, iterations, durationS, trials, threads, inputShape, opset, label, tvm, pytorch, tensorrt, verify, pipeline, fidelity)',
      '"iterations" must be a whole number from 1 to 10000000 (got 0)',
    ]);
    assert.match(parsed.runs[2]!.problems[0]!, /each run is an object/);
    assert.match(parseSpecFile('{"runs": [', base).problems[0]!, /fix the JSON/);
    assert.match(parseSpecFile('{"defaults": {}}', base).problems[0]!, /"runs" must be an array/);
  });

  it('Run all runs the valid entries and names each invalid one with its problem', () => {
    const parsed = parseSpecFile('{"runs": [{"model": "tiny"}, {"model": "tiny", "iterations": -5}, {"model": "tiny", "precision": "fp16"}]}', base);
    const all = selectSpecRuns(parsed, 'all');
    assert.deepEqual(all.runnable.map((r) => r.index), [0, 2]);
    assert.equal(all.skipped.length, 1);
    assert.match(all.skipped[0]!, /^run 2: .*iterations/);
    // One entry's own lens: only that entry, and an invalid one is reported, not run.
    assert.deepEqual(selectSpecRuns(parsed, 2).runnable.map((r) => r.spec.precision), ['fp16']);
    assert.deepEqual(selectSpecRuns(parsed, 1).runnable, []);
    assert.match(selectSpecRuns(parsed, 1).skipped[0]!, /^run 2: /);
  });
});

describe('restart policy', () => {
  it('restarts with growing delays, then gives up within the window, and forgets old closures', () => {
    const p = new RestartPolicy(3, 60_000);
    const d = [p.closed(0), p.closed(1000), p.closed(2000), p.closed(3000)];
    assert.deepEqual(
      d.map((x) => [x.restart, x.delayMs]),
      [
        [true, RESTART_DELAYS_MS[0]],
        [true, RESTART_DELAYS_MS[1]],
        [true, RESTART_DELAYS_MS[2]],
        [false, 0],
      ],
    );
    assert.deepEqual(p.closed(200_000), { restart: true, delayMs: RESTART_DELAYS_MS[0], recentClosures: 1 });
    // A connection the user asks for starts a policy of its own, from the settings of that moment.
    const next = RestartPolicy.from({ ...p.limits, maxRestarts: 0 });
    assert.deepEqual(next.closed(200_001), { restart: false, delayMs: 0, recentClosures: 1 });
  });
});

describe('live phase and quick-pick memory', () => {
  it('reads the queue from the agent\'s progress', () => {
    assert.equal(phaseFromProgress('queued behind 1 job(s)'), 'queued');
    assert.equal(phaseFromProgress('resolving model tiny'), 'running');
  });

  it('remembers only sane choices and lists the last one first', () => {
    assert.deepEqual(readLastChoices({ device: 'local', backend: 'cuda', precision: 'fp16', iterations: -1 }), { device: 'local', precision: 'fp16' });
    assert.deepEqual(readLastChoices('x'), {});
    const items = [{ value: 'a' }, { value: 'b', description: 'B' }, { value: 'c' }];
    assert.deepEqual(lastFirst(items, 'b'), [{ value: 'b', description: 'B · last used' }, { value: 'a' }, { value: 'c' }]);
    assert.equal(lastFirst(items, 'zzz'), items);
  });
});

describe('SSH targets for Add Device', () => {
  it('lists concrete Host aliases of an ssh config, not patterns', () => {
    const config = 'Host *\n  ServerAliveInterval 30\nHost xavier orin # boards\n  User nvidia\nhost=lab-?? "quoted"\nMatch host x\nHost !bad xavier\n';
    assert.deepEqual(sshConfigHostAliases(config), ['xavier', 'orin', 'quoted']);
  });

  it('parses user@host:port', () => {
    assert.deepEqual(parseSshTarget('nvidia@192.168.55.1:2222'), { user: 'nvidia', host: '192.168.55.1', port: 2222 });
    assert.deepEqual(parseSshTarget('orin.lan'), { user: null, host: 'orin.lan', port: null });
    assert.deepEqual(parseSshTarget('me@[fe80::1]:22'), { user: 'me', host: 'fe80::1', port: 22 });
    assert.equal(parseSshTarget('a@b:99999'), null);
    assert.equal(parseSshTarget('two words'), null);
  });
});
