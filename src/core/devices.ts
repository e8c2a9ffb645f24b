// Devices: `local`, a device configured in the `jetbench.devices` setting (VS Code settings; the
// CLI reads the same array from the workspace's .vscode/settings.json), a Host of ~/.ssh/config,
// or an `ssh://user@host:port` URL. One resolution for the CLI and the extension.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// The ESM build: the package's UMD main loads its parts with a require() bundlers cannot follow.
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser/lib/esm/main.js';
import SSHConfig from 'ssh-config';
import type { RunSpec } from '../../contract/protocol';
import { PYTORCH_DEFAULTS, TENSORRT_DEFAULTS } from '../../contract/runSpec';

/** One entry of the `jetbench.devices` setting. */
export interface DeviceConfig {
  /** What `--device NAME` and the Devices view call it. */
  name: string;
  /** Host name or address, or a Host alias of ~/.ssh/config (its settings fill what is not given here). */
  host: string;
  /** SSH port (default 22, or the ssh config's). */
  port?: number;
  /** User on the device (default: the ssh config's, else the local user name). */
  user?: string;
  /** Private key file; `~` is the local home (default: the ssh config's, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa). */
  identityFile?: string;
  /** Python with the device's TVM (default: $JETBENCH_PYTHON on the device, else python3). */
  python?: string;
  /** The agent daemon exits after this many idle minutes (default 30). */
  agentIdleMinutes?: number;
  /** The agent's home on the device, relative to the remote home unless absolute (default ~/.jetbench). */
  agentHome?: string;
  /** Node >= 18 on the device to run the agent with (default: discovered, else uploaded). */
  nodePath?: string;
  /** Build the native addon on the device at deploy: `auto` (default) where CMake and a C++
   * compiler are found, `never` to skip it (the pipeline and TensorRT then say it is missing). */
  nativeBuild?: 'auto' | 'never';
  /** The TensorRT runner of runs that name none: `native` (default) or `trtexec` (the device's
   * trtexec: works on day one with any TensorRT, no native build). */
  tensorrtRunner?: 'native' | 'trtexec';
  /** trtexec on the device (default: $JETBENCH_TRTEXEC, PATH, then /usr/src/tensorrt/bin/trtexec). */
  trtexecPath?: string;
}

/** JSON schema of `jetbench.devices` for package.json `contributes.configuration`. */
export const DEVICES_SETTING_SCHEMA = {
  type: 'array',
  default: [],
  markdownDescription:
    'Devices reached over SSH. `--device NAME` in the CLI and the Devices view use these; a Host of `~/.ssh/config` or `ssh://user@host:port` works without an entry.',
  items: {
    type: 'object',
    required: ['name', 'host'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', description: 'Name used by --device and the Devices view.' },
      host: { type: 'string', description: 'Host name or address, or a Host alias of ~/.ssh/config.' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'SSH port (default 22).' },
      user: { type: 'string', description: 'User on the device.' },
      identityFile: { type: 'string', description: 'Private key file (~ = local home).' },
      python: { type: 'string', description: 'Python with TVM on the device.' },
      agentIdleMinutes: { type: 'number', minimum: 0, description: 'The agent daemon exits after this many idle minutes (default 30).' },
      agentHome: { type: 'string', description: "The agent's directory on the device (default ~/.jetbench)." },
      nodePath: { type: 'string', description: 'Node >= 18 on the device (default: found on PATH or in ~/.vscode-server, else uploaded).' },
      nativeBuild: {
        type: 'string',
        enum: ['auto', 'never'],
        default: 'auto',
        description: 'Build the native addon (pipeline, TensorRT) on the device at deploy: auto where CMake and a C++ compiler are found, or never.',
      },
      tensorrtRunner: {
        type: 'string',
        enum: ['native', 'trtexec'],
        default: 'native',
        description: "TensorRT runs that name no runner use: native (the native addon) or trtexec (the device's trtexec, any TensorRT version).",
      },
      trtexecPath: { type: 'string', description: 'trtexec on the device (default: $JETBENCH_TRTEXEC, PATH, then /usr/src/tensorrt/bin/trtexec).' },
    },
  },
} as const;

export const DEFAULT_AGENT_IDLE_MINUTES = 30;
export const DEFAULT_AGENT_HOME = '.jetbench';

/** A device ready to connect to. */
export type ResolvedDevice = LocalDevice | SshDevice;

export interface LocalDevice {
  kind: 'local';
  name: 'local';
}

export interface SshDevice {
  kind: 'ssh';
  name: string;
  host: string;
  port: number;
  user: string;
  /** Keys to try in order (existing files only); ssh-agent is tried first when SSH_AUTH_SOCK is set. */
  identityFiles: string[];
  /** `user@host` of a jump host (ssh config ProxyJump), reached first. */
  proxyJump: string | null;
  /** ssh config IdentitiesOnly: offer only identityFiles, not every key of the ssh-agent. */
  identitiesOnly?: boolean;
  /** ssh config options jetbench does not apply, each with what to do instead (said at connect). */
  ignoredSshOptions?: string[];
  python: string | null;
  agentIdleMinutes: number;
  agentHome: string;
  nodePath: string | null;
  nativeBuild: 'auto' | 'never';
  tensorrtRunner: 'native' | 'trtexec';
  trtexecPath: string | null;
  /** Where the device came from, for messages. */
  source: 'settings' | 'ssh-config' | 'url';
}

/** A device that cannot be resolved, with the fix in the message. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

export interface DeviceSources {
  /** Workspace folder whose .vscode/settings.json holds `jetbench.devices` (searched upwards). */
  cwd: string;
  /** Devices given directly (the extension passes its settings); otherwise read from cwd. */
  devices?: readonly DeviceConfig[];
  /** Default ~/.ssh/config. */
  sshConfigFile?: string;
}

function expandHome(p: string): string {
  return p === '~' ? os.homedir() : p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/** The settings file the CLI reads: the nearest .vscode/settings.json above cwd, if any. */
export function findWorkspaceSettings(cwd: string): string | null {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, '.vscode', 'settings.json');
    if (existsSync(file)) return file;
    if (path.dirname(dir) === dir) return null;
  }
}

/** `jetbench.devices` from a VS Code settings file (JSON with comments and trailing commas). */
export function readDevicesSetting(file: string): DeviceConfig[] {
  const errors: ParseError[] = [];
  const data = parseJsonc(readFileSync(file, 'utf8'), errors, { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new DeviceError(`${file}: ${printParseErrorCode(e.error)} at offset ${e.offset}: fix the settings file`);
  }
  const list = data?.['jetbench.devices'];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new DeviceError(`${file}: "jetbench.devices" must be an array of devices`);
  return list.map((d, i) => validateDeviceConfig(d, `${file}: jetbench.devices[${i}]`));
}

export function validateDeviceConfig(value: unknown, where: string): DeviceConfig {
  if (typeof value !== 'object' || value === null) throw new DeviceError(`${where} must be an object with name and host`);
  const d = value as Record<string, unknown>;
  const str = (k: string, required = false) => {
    if (d[k] === undefined && !required) return;
    if (typeof d[k] !== 'string' || d[k] === '') throw new DeviceError(`${where}: "${k}" must be a non-empty string`);
  };
  str('name', true);
  str('host', true);
  const name = d.name as string;
  if (!new RegExp(DEVICES_SETTING_SCHEMA.items.properties.name.pattern).test(name)) {
    throw new DeviceError(`${where}: "name" must start with a letter or digit, then letters, digits, ".", "_" or "-" (got ${JSON.stringify(name)})`);
  }
  if (name === 'local') throw new DeviceError(`${where}: "local" is the name of this machine; pick another name`);
  for (const k of ['user', 'identityFile', 'python', 'agentHome', 'nodePath', 'trtexecPath']) str(k);
  // A newline in agentHome would add lines to the probe's output; no setting needs a control character.
  for (const k of ['name', 'host', 'user', 'identityFile', 'python', 'agentHome', 'nodePath', 'trtexecPath']) {
    const v = d[k];
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    if (typeof v === 'string' && /[\u0000-\u001f\u007f]/.test(v)) throw new DeviceError(`${where}: "${k}" contains a control character (a newline or tab?): remove it`);
  }
  if (d.port !== undefined && !(Number.isInteger(d.port) && (d.port as number) >= 1 && (d.port as number) <= 65535)) {
    throw new DeviceError(`${where}: "port" must be a whole number from 1 to 65535`);
  }
  if (d.agentIdleMinutes !== undefined && !(typeof d.agentIdleMinutes === 'number' && d.agentIdleMinutes >= 0)) {
    throw new DeviceError(`${where}: "agentIdleMinutes" must be a number >= 0`);
  }
  if (d.nativeBuild !== undefined && d.nativeBuild !== 'auto' && d.nativeBuild !== 'never') {
    throw new DeviceError(`${where}: "nativeBuild" must be "auto" or "never"`);
  }
  if (d.tensorrtRunner !== undefined && d.tensorrtRunner !== 'native' && d.tensorrtRunner !== 'trtexec') {
    throw new DeviceError(`${where}: "tensorrtRunner" must be "native" or "trtexec"`);
  }
  const known = Object.keys(DEVICES_SETTING_SCHEMA.items.properties);
  const unknown = Object.keys(d).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new DeviceError(`${where}: unknown field "${unknown[0]}" (known: ${known.join(', ')})`);
  return d as unknown as DeviceConfig;
}

interface SshConfigHost {
  hostName: string | null;
  port: number | null;
  user: string | null;
  identityFiles: string[];
  proxyJump: string | null;
  identitiesOnly: boolean;
  proxyCommand: string | null;
}

/** What ~/.ssh/config says about a host alias; null when no Host pattern other than `*` names it. */
export function sshConfigHost(alias: string, file = path.join(os.homedir(), '.ssh', 'config')): SshConfigHost | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  // `Match exec` would run commands from the file: resolution must not execute anything.
  const computed = SSHConfig.parse(text).compute(alias, { ignoreCase: true, matchExec: false });
  const get = (k: string): string | undefined => {
    const v = computed[k.toLowerCase()] ?? computed[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const matchedHost = get('Host');
  if (!matchedHost || matchedHost.split(/\s+/).every((p) => p === '*')) return null;
  const idFiles = computed['identityfile'] ?? computed['IdentityFile'];
  const proxy = get('ProxyJump');
  const port = get('Port');
  return {
    hostName: get('HostName') ?? null,
    port: port ? Number.parseInt(port, 10) : null,
    user: get('User') ?? null,
    identityFiles: (Array.isArray(idFiles) ? idFiles : idFiles ? [idFiles] : []).filter((f) => f.toLowerCase() !== 'none'),
    proxyJump: proxy && proxy.toLowerCase() !== 'none' ? proxy : null,
    identitiesOnly: (get('IdentitiesOnly') ?? '').toLowerCase() === 'yes',
    proxyCommand: get('ProxyCommand') && get('ProxyCommand')!.toLowerCase() !== 'none' ? get('ProxyCommand')! : null,
  };
}

/** The Host aliases of an OpenSSH client config a user can connect to as written (Add Device
 * offers them): patterns (`*`, `?`, `!`) are not hosts. */
export function sshConfigHostAliases(text: string): string[] {
  const hosts: string[] = [];
  for (const line of SSHConfig.parse(text)) {
    if (!('param' in line) || line.param.toLowerCase() !== 'host') continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : String(line.value).split(/\s+/);
    for (const alias of values) if (alias && !/[*?!]/.test(alias) && !hosts.includes(alias)) hosts.push(alias);
  }
  return hosts;
}

/** ssh's tokens in IdentityFile: %d local home, %u local user, %h host, %r remote user, %% a %. */
function expandIdentityFile(file: string, host: string, user: string): string {
  const expanded = file.replace(/%([duhr%])/g, (_, t: string) =>
    t === 'd' ? os.homedir() : t === 'u' ? os.userInfo().username : t === 'h' ? host : t === 'r' ? user : '%',
  );
  return expandHome(expanded);
}

function defaultIdentityFiles(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => path.join(os.homedir(), '.ssh', n));
}

function sshDevice(
  name: string,
  source: SshDevice['source'],
  target: { host: string; port?: number | undefined; user?: string | undefined; identityFile?: string | undefined },
  config: Partial<DeviceConfig>,
  sshConfigFile: string | undefined,
): SshDevice {
  const fromSsh = sshConfigHost(target.host, sshConfigFile);
  const host = fromSsh?.hostName ?? target.host;
  const user = target.user ?? fromSsh?.user ?? os.userInfo().username;
  const explicit = target.identityFile ? [target.identityFile] : (fromSsh?.identityFiles ?? []);
  const identityFiles = (explicit.length > 0 ? explicit : defaultIdentityFiles()).map((f) => expandIdentityFile(f, host, user));
  return {
    kind: 'ssh',
    name,
    host,
    port: target.port ?? fromSsh?.port ?? 22,
    user,
    // A key named explicitly must exist (its absence is reported at connect); defaults only if present.
    identityFiles: explicit.length > 0 ? identityFiles : identityFiles.filter((f) => existsSync(f)),
    proxyJump: fromSsh?.proxyJump ?? null,
    identitiesOnly: fromSsh?.identitiesOnly ?? false,
    ignoredSshOptions: fromSsh?.proxyCommand
      ? [`ProxyCommand (${fromSsh.proxyCommand.slice(0, 80)}) is not supported and is ignored: jetbench connects directly${fromSsh.proxyJump ? ' or through ProxyJump' : ''}; use ProxyJump for a jump host`]
      : [],
    python: config.python ?? null,
    agentIdleMinutes: config.agentIdleMinutes ?? DEFAULT_AGENT_IDLE_MINUTES,
    agentHome: config.agentHome ?? DEFAULT_AGENT_HOME,
    nodePath: config.nodePath ?? null,
    nativeBuild: config.nativeBuild ?? 'auto',
    tensorrtRunner: config.tensorrtRunner ?? 'native',
    trtexecPath: config.trtexecPath ?? null,
    source,
  };
}

/** `ssh://[user@]host[:port]` (IPv6 in brackets), or null when `text` is not such a URL. */
export function parseSshUrl(text: string): { host: string; port?: number; user?: string } | null {
  if (!/^ssh:\/\//i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DeviceError(`'${text}' is not a valid ssh:// URL: use ssh://user@host:port`);
  }
  if (!url.hostname) throw new DeviceError(`'${text}' names no host: use ssh://user@host:port`);
  if ((url.pathname && url.pathname !== '/') || url.search || url.password) {
    throw new DeviceError(`'${text}': only ssh://user@host:port is understood (no path, query or password)`);
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
  };
}

/** `[user@]host[:port]` as typed into Add Device, or null when it is not that. */
export function parseSshTarget(text: string): { host: string; user: string | null; port: number | null } | null {
  const trimmed = text.trim();
  if (trimmed === '' || /[\s/?#]/.test(trimmed)) return null;
  try {
    const url = parseSshUrl(`ssh://${trimmed}`);
    return url ? { host: url.host, user: url.user ?? null, port: url.port ?? null } : null;
  } catch {
    return null;
  }
}

/** The devices configured for a workspace (settings given, else .vscode/settings.json above cwd). */
export function configuredDevices(sources: DeviceSources): DeviceConfig[] {
  if (sources.devices) return sources.devices.map((d, i) => validateDeviceConfig(d, `jetbench.devices[${i}]`));
  const file = findWorkspaceSettings(sources.cwd);
  return file ? readDevicesSetting(file) : [];
}

/** Resolves `--device` text: `local`, a configured name, `ssh://...`, or an ssh config Host. */
export function resolveDevice(text: string, sources: DeviceSources): ResolvedDevice {
  if (text === 'local') return { kind: 'local', name: 'local' };
  const url = parseSshUrl(text);
  if (url) return sshDevice(text, 'url', url, {}, sources.sshConfigFile);
  const configured = configuredDevices(sources).find((d) => d.name === text);
  if (configured) return sshDevice(configured.name, 'settings', configured, configured, sources.sshConfigFile);
  if (sshConfigHost(text, sources.sshConfigFile)) return sshDevice(text, 'ssh-config', { host: text }, {}, sources.sshConfigFile);
  throw new DeviceError(
    `device '${text}' is not known: use 'local', a device of the jetbench.devices setting (.vscode/settings.json), ` +
      `a Host of ~/.ssh/config, or ssh://user@host:port`,
  );
}

/** `user@host:port` for messages. */
export function describeDevice(d: ResolvedDevice): string {
  return d.kind === 'local' ? 'local' : `${d.user}@${d.host}${d.port === 22 ? '' : `:${d.port}`}`;
}

/** The jump host of a ProxyJump value (`[user@]host[:port]`, one hop), resolved through ssh config. */
export function jumpHostDevice(proxyJump: string, target: SshDevice, sshConfigFile?: string): SshDevice {
  if (proxyJump.includes(',')) throw new DeviceError(`ProxyJump with several hops (${proxyJump}) is not supported: give the device a single jump host`);
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(proxyJump.replace(/^ssh:\/\//, ''));
  if (!m) throw new DeviceError(`ProxyJump '${proxyJump}' is not [user@]host[:port]`);
  const alias = m[2]!.replace(/^\[(.*)\]$/, '$1');
  const jump = sshDevice(`${target.name} (jump ${alias})`, target.source, { host: alias, port: m[3] ? Number(m[3]) : undefined, user: m[1] }, {}, sshConfigFile);
  if (jump.proxyJump) throw new DeviceError(`the jump host ${alias} has a ProxyJump of its own: chained jumps are not supported`);
  return jump;
}

/** A run on an SSH device with the device's settings where the spec says nothing: the `python` of
 * a TVM or PyTorch run, the runner and trtexec path of a TensorRT run. */
export function withDeviceDefaults(spec: RunSpec, device: ResolvedDevice): RunSpec {
  if (device.kind !== 'ssh') return spec;
  if (device.python && spec.backend === 'tvm' && spec.tvm && spec.tvm.python === null) return { ...spec, tvm: { ...spec.tvm, python: device.python } };
  if (device.python && spec.backend === 'pytorch' && (spec.pytorch?.python ?? null) === null) return { ...spec, pytorch: { ...PYTORCH_DEFAULTS, ...spec.pytorch, python: device.python } };
  if (spec.backend === 'tensorrt') {
    const trt = spec.tensorrt ?? { ...TENSORRT_DEFAULTS, runner: device.tensorrtRunner ?? 'native' };
    if (trt.runner === 'trtexec' && trt.trtexec === null && device.trtexecPath) return { ...spec, tensorrt: { ...trt, trtexec: device.trtexecPath } };
    if (trt.runner !== (spec.tensorrt?.runner ?? 'native')) return { ...spec, tensorrt: trt };
  }
  return spec;
}
