// The extension's settings (`jetbench.*`) as typed, sanitised values. Pure code (no VS Code API):
// settings.json is hand-edited, so every value is checked and a bad one falls back to its default
// with a warning naming the setting and the fix, instead of reaching an agent or a panel.
import { validateDeviceConfig, type DeviceConfig } from '../core/devices';
import { SPEC_DEFAULTS, SPEC_LIMITS } from '../../contract/runSpec';

/** One entry of `jetbench.devices` as the extension lists it: what the Devices view shows, and the
 * checked entry itself (`config`), which src/core/devices.ts resolves for connecting and deploying. */
export interface DeviceSetting {
  name: string;
  host: string;
  port: number | null;
  user: string | null;
  identityFile: string | null;
  python: string | null;
  config: DeviceConfig;
}

export type TraceLevel = 'off' | 'messages' | 'verbose';

export interface JetbenchSettings {
  devices: DeviceSetting[];
  /** The device the status bar and Run Benchmark start from. */
  defaultDevice: string;
  warmup: number;
  iterations: number;
  /** Trials per run (each with its own warm-up); 1 = one measurement, as before trials existed. */
  trials: number;
  /** null = the backend's default. */
  threads: number | null;
  /** Throttle of a result panel's live redraws. */
  redrawIntervalMs: number;
  /** How often the agent may die within `restartWindowS` before the extension stops restarting it. */
  maxRestarts: number;
  restartWindowS: number;
  trace: TraceLevel;
}

export const DEFAULT_SETTINGS: JetbenchSettings = {
  devices: [],
  defaultDevice: 'local',
  warmup: SPEC_DEFAULTS.warmup,
  iterations: SPEC_DEFAULTS.iterations,
  trials: 1,
  threads: SPEC_DEFAULTS.threads,
  redrawIntervalMs: 250,
  maxRestarts: 4,
  restartWindowS: 180,
  trace: 'off',
};

/** Setting keys, relative to the `jetbench` section; package.json declares the same keys. */
export const SETTING_KEYS = {
  devices: 'devices',
  defaultDevice: 'defaultDevice',
  warmup: 'run.warmup',
  iterations: 'run.iterations',
  trials: 'run.trials',
  threads: 'run.threads',
  redrawIntervalMs: 'panel.redrawIntervalMs',
  maxRestarts: 'agent.maxRestarts',
  restartWindowS: 'agent.restartWindowS',
  trace: 'trace.server',
} as const satisfies Record<keyof JetbenchSettings, string>;

/** Settings whose change needs the agents restarted (the connection options are read at start). */
export const RESTART_KEYS: ReadonlyArray<keyof JetbenchSettings> = ['maxRestarts', 'restartWindowS'];

export interface Sanitised {
  settings: JetbenchSettings;
  /** One line per value that was replaced by its default, naming the setting and the fix. */
  warnings: string[];
}

/** Reads every setting through `get` (relative key -> raw value, undefined when unset). */
export function sanitiseSettings(get: (key: string) => unknown): Sanitised {
  const warnings: string[] = [];
  const d = DEFAULT_SETTINGS;
  const whole = (key: keyof JetbenchSettings, min: number, max: number, fallback: number): number => {
    const raw = get(SETTING_KEYS[key]);
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw === 'number' && Number.isInteger(raw) && raw >= min && raw <= max) return raw;
    warnings.push(`jetbench.${SETTING_KEYS[key]} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)}); using ${fallback}`);
    return fallback;
  };
  const threadsRaw = get(SETTING_KEYS.threads);
  let threads: number | null = null;
  if (threadsRaw !== undefined && threadsRaw !== null) {
    if (typeof threadsRaw === 'number' && Number.isInteger(threadsRaw) && threadsRaw >= 1 && threadsRaw <= SPEC_LIMITS.threads) threads = threadsRaw;
    else warnings.push(`jetbench.${SETTING_KEYS.threads} must be null (the backend's default) or a whole number from 1 to ${SPEC_LIMITS.threads} (got ${JSON.stringify(threadsRaw)}); using the default`);
  }
  const traceRaw = get(SETTING_KEYS.trace);
  let trace: TraceLevel = d.trace;
  if (traceRaw !== undefined && traceRaw !== null) {
    if (traceRaw === 'off' || traceRaw === 'messages' || traceRaw === 'verbose') trace = traceRaw;
    else warnings.push(`jetbench.${SETTING_KEYS.trace} must be "off", "messages" or "verbose" (got ${JSON.stringify(traceRaw)}); using "off"`);
  }
  const devices = sanitiseDevices(get(SETTING_KEYS.devices), warnings);
  const defaultRaw = get(SETTING_KEYS.defaultDevice);
  let defaultDevice = d.defaultDevice;
  if (typeof defaultRaw === 'string' && defaultRaw !== '') {
    if (defaultRaw === 'local' || devices.some((x) => x.name === defaultRaw)) defaultDevice = defaultRaw;
    else warnings.push(`jetbench.${SETTING_KEYS.defaultDevice} names "${defaultRaw}", which is neither "local" nor a device in jetbench.devices; using "local"`);
  }
  return {
    settings: {
      devices,
      defaultDevice,
      warmup: whole('warmup', 0, SPEC_LIMITS.warmup, d.warmup),
      iterations: whole('iterations', 1, SPEC_LIMITS.iterations, d.iterations),
      trials: whole('trials', 1, SPEC_LIMITS.trials, d.trials),
      threads,
      redrawIntervalMs: whole('redrawIntervalMs', 50, 10_000, d.redrawIntervalMs),
      maxRestarts: whole('maxRestarts', 0, 100, d.maxRestarts),
      restartWindowS: whole('restartWindowS', 1, 86_400, d.restartWindowS),
      trace,
    },
    warnings,
  };
}

function sanitiseDevices(raw: unknown, warnings: string[]): DeviceSetting[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    warnings.push('jetbench.devices must be an array of devices ({ "name": ..., "host": ... }); ignoring it');
    return [];
  }
  const out: DeviceSetting[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `jetbench.devices[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      warnings.push(`${where} must be an object with "name" and "host"; skipping it`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const label = typeof e.name === 'string' ? `${where} ("${e.name}")` : where;
    if (typeof e.name === 'string' && out.some((x) => x.name === e.name)) {
      warnings.push(`${label}: a device named "${e.name}" is listed twice; keeping the first`);
      return;
    }
    // A bad port falls back to the default (22 or the ssh config's) with a warning; everything
    // else is checked as the CLI checks it (src/core/devices.ts), and a bad entry is skipped.
    const checked: Record<string, unknown> = { ...e };
    if (e.port !== undefined && !(typeof e.port === 'number' && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535)) {
      warnings.push(`${label}: "port" must be a whole number from 1 to 65535 (got ${JSON.stringify(e.port)}); using the default`);
      delete checked.port;
    }
    let config: DeviceConfig;
    try {
      config = validateDeviceConfig(checked, label);
    } catch (err) {
      warnings.push(`${(err as Error).message}; skipping it`);
      return;
    }
    out.push({ name: config.name, host: config.host, port: config.port ?? null, user: config.user ?? null, identityFile: config.identityFile ?? null, python: config.python ?? null, config });
  });
  return out;
}

/** The keys whose values differ (a configuration change event names sections, not values). */
export function changedKeys(a: JetbenchSettings, b: JetbenchSettings): Array<keyof JetbenchSettings> {
  return (Object.keys(a) as Array<keyof JetbenchSettings>).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
