// Device resolution: ssh:// URLs, the jetbench.devices setting (JSONC, as VS Code writes it), ~/.ssh
// config Hosts (HostName, Port, User, IdentityFile with tokens, ProxyJump), and clear errors.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { RunSpec } from '../../contract/protocol';
import { TENSORRT_DEFAULTS } from '../../contract/runSpec';
import { DeviceError, DEVICES_SETTING_SCHEMA, jumpHostDevice, parseSshUrl, resolveDevice, validateDeviceConfig, withDeviceDefaults, type SshDevice } from '../../src/core/devices';

const root = mkdtempSync(path.join(os.tmpdir(), 'jetbench-devices-'));
const workspace = path.join(root, 'ws');
mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
mkdirSync(path.join(workspace, 'sub', 'dir'), { recursive: true });
const sshConfigFile = path.join(root, 'ssh_config');
writeFileSync(
  sshConfigFile,
  [
    'Host orin orin-*',
    '  HostName 10.0.0.7',
    '  Port 2222',
    '  User nvidia',
    '  IdentityFile ~/.ssh/orin_%r_%h',
    '  IdentityFile /keys/second',
    'Host behind',
    '  HostName 192.168.5.2',
    '  ProxyJump admin@bastion.lab:2200',
    'Host multi',
    '  ProxyJump a,b',
    'Host strict',
    '  HostName 10.0.0.9',
    '  IdentitiesOnly yes',
    '  IdentityFile /keys/strict',
    '  ProxyCommand ssh -W %h:%p gateway',
    `Match exec "touch ${path.join(root, 'should-not-exist')}"`,
    '  User evil',
    'Host *',
    '  User everyone',
    '',
  ].join('\n'),
);
writeFileSync(
  path.join(workspace, '.vscode', 'settings.json'),
  `{
  // comments and trailing commas, as VS Code allows
  "editor.tabSize": 2,
  "jetbench.devices": [
    { "name": "xavier", "host": "192.168.1.20", "user": "ubuntu", "port": 22, "identityFile": "~/.ssh/xavier", "python": "/usr/bin/python3.8", "agentIdleMinutes": 5, },
    { "name": "orin-lab", "host": "orin", "agentHome": "/data/jetbench" },
  ],
}
`,
);
const sources = { cwd: path.join(workspace, 'sub', 'dir'), sshConfigFile };
const ssh = (name: string) => resolveDevice(name, sources) as SshDevice;

test('ssh:// URLs', () => {
  assert.deepEqual(parseSshUrl('ssh://nvidia@jetson.local:2200'), { host: 'jetson.local', port: 2200, user: 'nvidia' });
  assert.deepEqual(parseSshUrl('ssh://[fe80::1]'), { host: 'fe80::1' });
  assert.equal(parseSshUrl('jetson'), null);
  assert.throws(() => parseSshUrl('ssh://host/path'), /only ssh:\/\/user@host:port/);
  const d = ssh('ssh://me@10.1.2.3:2022');
  assert.deepEqual([d.kind, d.host, d.port, d.user, d.source, d.agentHome, d.agentIdleMinutes], ['ssh', '10.1.2.3', 2022, 'me', 'url', '.jetbench', 30]);
});

test('configured devices come from the nearest .vscode/settings.json, filled from ssh config', () => {
  const x = ssh('xavier');
  assert.deepEqual(
    [x.host, x.port, x.user, x.identityFiles, x.python, x.agentIdleMinutes, x.source],
    ['192.168.1.20', 22, 'ubuntu', [path.join(os.homedir(), '.ssh', 'xavier')], '/usr/bin/python3.8', 5, 'settings'],
  );
  const o = ssh('orin-lab');
  assert.deepEqual([o.host, o.port, o.user, o.agentHome], ['10.0.0.7', 2222, 'nvidia', '/data/jetbench']);
  assert.deepEqual(o.identityFiles, [path.join(os.homedir(), '.ssh', 'orin_nvidia_10.0.0.7'), '/keys/second']);
});

test('ssh config Hosts (patterns too); Match exec is never run', () => {
  const d = ssh('orin-2');
  assert.deepEqual([d.host, d.port, d.user, d.source], ['10.0.0.7', 2222, 'nvidia', 'ssh-config']);
  assert.equal(ssh('behind').proxyJump, 'admin@bastion.lab:2200');
  assert.ok(!existsSync(path.join(root, 'should-not-exist')));
});

test('ProxyJump: one hop resolved through ssh config; several hops are refused', () => {
  const jump = jumpHostDevice('admin@bastion.lab:2200', ssh('behind'), sshConfigFile);
  assert.deepEqual([jump.host, jump.port, jump.user, jump.proxyJump], ['bastion.lab', 2200, 'admin', null]);
  const viaAlias = jumpHostDevice('orin', ssh('behind'), sshConfigFile);
  assert.deepEqual([viaAlias.host, viaAlias.port, viaAlias.user], ['10.0.0.7', 2222, 'nvidia']);
  assert.throws(() => jumpHostDevice('a,b', ssh('multi'), sshConfigFile), /several hops .* not supported/);
});

test('unknown names and bad settings say what to do', () => {
  assert.deepEqual(resolveDevice('local', sources), { kind: 'local', name: 'local' });
  // `Host *` alone does not make a name a device.
  assert.throws(() => resolveDevice('typo', sources), (e: Error) => e instanceof DeviceError && /device 'typo' is not known: use 'local', a device of the jetbench.devices setting/.test(e.message));
  const bad = path.join(root, 'bad');
  mkdirSync(path.join(bad, '.vscode'), { recursive: true });
  writeFileSync(path.join(bad, '.vscode', 'settings.json'), '{ "jetbench.devices": [ { "name": "x", "host": "h", "prot": 22 } ] }');
  assert.throws(() => resolveDevice('x', { cwd: bad, sshConfigFile }), /unknown field "prot"/);
  writeFileSync(path.join(bad, '.vscode', 'settings.json'), '{ "jetbench.devices": [ { "name": "x", "host": "h", "port": 70000 } ] }');
  assert.throws(() => resolveDevice('x', { cwd: bad, sshConfigFile }), /"port" must be a whole number from 1 to 65535/);
  writeFileSync(path.join(bad, '.vscode', 'settings.json'), '{ "jetbench.devices": [ { "name": "x" ');
  assert.throws(() => resolveDevice('x', { cwd: bad, sshConfigFile }), /settings.json: .* at offset \d+: fix the settings file/);
});

test('devices given by the extension replace the settings file; the schema knows every field', () => {
  const d = resolveDevice('given', { ...sources, devices: [{ name: 'given', host: 'h.lan', port: 2202 }] }) as SshDevice;
  assert.deepEqual([d.host, d.port], ['h.lan', 2202]);
  assert.deepEqual(Object.keys(DEVICES_SETTING_SCHEMA.items.properties).sort(), ['agentHome', 'agentIdleMinutes', 'host', 'identityFile', 'name', 'nativeBuild', 'nodePath', 'port', 'python', 'tensorrtRunner', 'trtexecPath', 'user']);
});

test('package.json contributes exactly this schema for jetbench.devices', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, unknown> } };
  };
  assert.deepEqual(pkg.contributes.configuration.properties['jetbench.devices'], JSON.parse(JSON.stringify(DEVICES_SETTING_SCHEMA)));
});

test('a TVM run on an SSH device takes the device python unless the spec names one', () => {
  const ssh = { kind: 'ssh', python: '/opt/tvm/bin/python3' } as SshDevice;
  const tvm = { backend: 'tvm', tvm: { python: null } } as unknown as RunSpec;
  assert.equal(withDeviceDefaults(tvm, ssh).tvm?.python, '/opt/tvm/bin/python3');
  assert.equal(tvm.tvm?.python, null, 'the given spec is left as it was');
  const named = { backend: 'tvm', tvm: { python: '/usr/bin/python3' } } as unknown as RunSpec;
  assert.equal(withDeviceDefaults(named, ssh), named);
  const ort = { backend: 'onnxruntime' } as unknown as RunSpec;
  assert.equal(withDeviceDefaults(ort, ssh), ort);
  assert.equal(withDeviceDefaults(tvm, { kind: 'local', name: 'local' }), tvm);
});

test('a TensorRT run on an SSH device takes the device runner and trtexec path unless the spec says', () => {
  const board = { kind: 'ssh', python: null, tensorrtRunner: 'trtexec', trtexecPath: '/opt/trt/bin/trtexec' } as SshDevice;
  const plain = { backend: 'tensorrt' } as unknown as RunSpec;
  assert.deepEqual(withDeviceDefaults(plain, board).tensorrt, { ...TENSORRT_DEFAULTS, runner: 'trtexec', trtexec: '/opt/trt/bin/trtexec' });
  const native = { backend: 'tensorrt', tensorrt: { ...TENSORRT_DEFAULTS } } as unknown as RunSpec;
  assert.equal(withDeviceDefaults(native, board), native, 'a spec naming the native runner keeps it');
  const ownPath = { backend: 'tensorrt', tensorrt: { ...TENSORRT_DEFAULTS, runner: 'trtexec', trtexec: '/x/trtexec' } } as unknown as RunSpec;
  assert.equal(withDeviceDefaults(ownPath, board), ownPath);
  const nativeBoard = { kind: 'ssh', python: null, tensorrtRunner: 'native', trtexecPath: null } as SshDevice;
  assert.equal(withDeviceDefaults(plain, nativeBoard), plain);
  assert.throws(() => validateDeviceConfig({ name: 'b', host: 'x', tensorrtRunner: 'tensorrt' }, 'w'), /"tensorrtRunner" must be "native" or "trtexec"/);
});

test('a configured device needs a usable name: the pattern of the schema, and not "local"', () => {
  assert.throws(() => validateDeviceConfig({ name: 'my board', host: 'x' }, 'jetbench.devices[0]'), /jetbench\.devices\[0\]: "name" must start with a letter or digit/);
  assert.throws(() => validateDeviceConfig({ name: 'local', host: 'x' }, 'jetbench.devices[1]'), /"local" is the name of this machine/);
  assert.equal(validateDeviceConfig({ name: 'orin-1.lab', host: 'x' }, 'w').name, 'orin-1.lab');
});

test('ssh config: IdentitiesOnly is kept, an unsupported ProxyCommand is named instead of ignored silently', () => {
  const d = ssh('strict');
  assert.equal(d.identitiesOnly, true);
  assert.deepEqual(d.identityFiles, ['/keys/strict']);
  assert.match(d.ignoredSshOptions![0]!, /^ProxyCommand \(ssh -W %h:%p gateway\) is not supported and is ignored: .*use ProxyJump/);
  assert.equal(ssh('orin').identitiesOnly, false);
  assert.deepEqual(ssh('orin').ignoredSshOptions, []);
});

test('settings strings with control characters are refused (a newline in agentHome would rewrite the probe)', () => {
  assert.throws(() => validateDeviceConfig({ name: 'b', host: 'x', agentHome: '.jb\nagenthome=/tmp/evil' }, 'jetbench.devices[0]'), /jetbench\.devices\[0\]: "agentHome" contains a control character/);
  assert.throws(() => validateDeviceConfig({ name: 'b', host: 'x\t', user: 'u' }, 'jetbench.devices[0]'), /"host" contains a control character/);
});
