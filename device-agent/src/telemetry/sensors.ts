// The device's sensors, found once per run and read many times (issue 14): Jetson INA3221 power
// rails (JetPack 5+ hwmon in mV/mA, JetPack 4 IIO in mW), thermal zones, cpufreq, the Jetson GPU's
// devfreq clock and load, Orin's soctherm over-current counters, and on x86 the CPU packages'
// RAPL energy counters (powercap, root-only since Linux 5.10). Paths and units from
// ../shared/research/telemetry-facts.md §2; everything under the device root (sysfs.ts), so the same
// code reads a fixture tree in tests. A sensor that cannot be read is left out, never read as 0.
import path from 'node:path';
import type { TelemetryReading } from '../../../contract/protocol';
import { readCpuFreq, readGpuClock } from '../deviceState';
import { listDir, readNumber, readNumberSync, readText } from '../sysfs';

/** A power rail as the files it is read from: JetPack 5+ hwmon `vi` (inN_input mV, currN_input
 * mA: power = V x I), JetPack 4 IIO `mw` (in_powerN_input, mW). */
export interface Rail {
  name: string;
  kind: 'vi' | 'mw';
  files: string[];
}

/** A rail's power (mW) from its files' values, null when one is unreadable. */
function railMw(rail: Rail, values: ReadonlyArray<number | null>): number | null {
  if (values.some((v) => v === null)) return null;
  return rail.kind === 'vi' ? (values[0]! * values[1]!) / 1000 : values[0]!;
}

/** Power rails and how total power is taken from them. */
export interface PowerRails {
  source: 'ina3221-hwmon' | 'ina3221-iio';
  rails: Rail[];
  /** `VDD_IN` / `POM_5V_IN` (the module's input), else `sum of rails`. */
  totalRule: string;
}

/** A rail not to count: unconnected channels and the INA3221's "sum of shunt voltages" channel. */
function skipRail(label: string, channel: number): boolean {
  return channel === 7 || label === 'NC' || /\bNC\b/.test(label) || /sum of shunt/i.test(label);
}

/** Total power rule per module (telemetry-facts.md §1.2): Nano POM_5V_IN; TX2, Xavier NX, Orin
 * NX/Nano VDD_IN; AGX Xavier and AGX Orin have no input rail: the sum of their rails. */
export function totalRule(names: readonly string[]): string {
  if (names.includes('POM_5V_IN')) return 'POM_5V_IN';
  if (names.includes('VDD_IN')) return 'VDD_IN';
  return 'sum of rails';
}

/** JetPack 5+: hwmon devices named ina3221, `inN_label` with `inN_input` (mV) and `currN_input` (mA). */
async function hwmonRails(root: string): Promise<Rail[]> {
  const base = path.join(root, 'sys/class/hwmon');
  const rails: Rail[] = [];
  for (const dev of (await listDir(base)).sort()) {
    const dir = path.join(base, dev);
    if ((await readText(path.join(dir, 'name'))) !== 'ina3221') continue;
    for (const file of (await listDir(dir)).sort()) {
      const m = /^in(\d+)_label$/.exec(file);
      if (!m) continue;
      const channel = Number(m[1]);
      const label = await readText(path.join(dir, file));
      if (!label || skipRail(label, channel)) continue;
      const rail: Rail = { name: label, kind: 'vi', files: [path.join(dir, `in${channel}_input`), path.join(dir, `curr${channel}_input`)] };
      if (railMw(rail, rail.files.map(readNumberSync)) !== null) rails.push(rail);
    }
  }
  return rails;
}

/** JetPack 4: the ina3221x IIO driver, `rail_name_N` with `in_powerN_input` (mW). */
async function iioRails(root: string): Promise<Rail[]> {
  const driver = path.join(root, 'sys/bus/i2c/drivers/ina3221x');
  const rails: Rail[] = [];
  for (const client of (await listDir(driver)).sort()) {
    const clientDir = path.join(driver, client);
    for (const iio of (await listDir(clientDir)).filter((d) => d.startsWith('iio:device')).sort()) {
      const dir = path.join(clientDir, iio);
      for (const file of (await listDir(dir)).sort()) {
        const m = /^rail_name_(\d+)$/.exec(file);
        if (!m) continue;
        const label = await readText(path.join(dir, file));
        if (!label || skipRail(label, -1)) continue;
        const rail: Rail = { name: label, kind: 'mw', files: [path.join(dir, `in_power${m[1]}_input`)] };
        if (railMw(rail, rail.files.map(readNumberSync)) !== null) rails.push(rail);
      }
    }
  }
  return rails;
}

export async function findPowerRails(root: string): Promise<PowerRails | null> {
  const hwmon = await hwmonRails(root);
  if (hwmon.length > 0) return { source: 'ina3221-hwmon', rails: hwmon, totalRule: totalRule(hwmon.map((r) => r.name)) };
  const iio = await iioRails(root);
  if (iio.length > 0) return { source: 'ina3221-iio', rails: iio, totalRule: totalRule(iio.map((r) => r.name)) };
  return null;
}

/** A RAPL package zone: its cumulative energy counter (µJ) and where it wraps. */
export interface RaplZone {
  name: string;
  energyFile: string;
  maxUj: number;
}

/** The CPU packages' RAPL zones (`/sys/class/powercap/intel-rapl:N`, named `package-N`; sub-zones
 * such as core and dram are inside a package's count or, for dram, outside the package and left
 * out), and, when the counters exist but cannot be read, why (root-only since Linux 5.10). */
export async function findRapl(root: string): Promise<{ zones: RaplZone[]; unreadable: string | null }> {
  const base = path.join(root, 'sys/class/powercap');
  const zones: RaplZone[] = [];
  const unreadable: string[] = [];
  for (const dir of (await listDir(base)).filter((d) => /^intel-rapl:\d+$/.test(d)).sort((a, b) => Number(a.slice(11)) - Number(b.slice(11)))) {
    const name = (await readText(path.join(base, dir, 'name'))) ?? dir;
    if (!/^package-\d+$/.test(name)) continue;
    const energyFile = path.join(base, dir, 'energy_uj');
    const maxUj = await readNumber(path.join(base, dir, 'max_energy_range_uj'));
    if (readNumberSync(energyFile) === null || maxUj === null || maxUj <= 0) unreadable.push(energyFile);
    else zones.push({ name, energyFile, maxUj });
  }
  return {
    zones: unreadable.length ? [] : zones,
    unreadable: unreadable.length
      ? `CPU package energy (RAPL: ${unreadable.join(', ')} cannot be read; root-only since Linux 5.10: run the agent as root, or make it readable, e.g. a udev rule or chmod 0444)`
      : null,
  };
}

export interface ThermalZone {
  type: string;
  dir: string;
  /** The `passive` trip point (°C), where the kernel starts throttling; null when there is none. */
  passiveC: number | null;
}

/** Offline sensors read -256 °C (jtop's TEMPERATURE_OFFLINE). */
const OFFLINE_C = -256;

export async function findThermalZones(root: string): Promise<ThermalZone[]> {
  const base = path.join(root, 'sys/class/thermal');
  const zones: ThermalZone[] = [];
  const seen = new Set<string>();
  for (const name of (await listDir(base)).filter((n) => /^thermal_zone\d+$/.test(n)).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)))) {
    const dir = path.join(base, name);
    const [type, milli] = await Promise.all([readText(path.join(dir, 'type')), readNumber(path.join(dir, 'temp'))]);
    if (!type || milli === null || milli / 1000 <= OFFLINE_C) continue;
    // Two zones of one type (rare) keep their zone number to stay apart.
    const key = seen.has(type) ? `${type}#${name.slice(12)}` : type;
    seen.add(type);
    let passiveC: number | null = null;
    for (const file of await listDir(dir)) {
      const m = /^trip_point_(\d+)_type$/.exec(file);
      if (m && (await readText(path.join(dir, file))) === 'passive') {
        const c = await readNumber(path.join(dir, `trip_point_${m[1]}_temp`));
        if (c !== null && (passiveC === null || c / 1000 < passiveC)) passiveC = c / 1000;
      }
    }
    zones.push({ type: key, dir, passiveC });
  }
  return zones;
}

/** Orin's over-current counters: the hwmon named soctherm_oc, `ocN_event_cnt` (cumulative since boot). */
export async function findOverCurrentCounters(root: string): Promise<Array<{ counter: string; file: string }>> {
  const base = path.join(root, 'sys/class/hwmon');
  for (const dev of (await listDir(base)).sort()) {
    const dir = path.join(base, dev);
    if ((await readText(path.join(dir, 'name'))) !== 'soctherm_oc') continue;
    const counters = (await listDir(dir)).filter((f) => /^oc\d+_event_cnt$/.test(f)).sort();
    const readable = await Promise.all(counters.map(async (f) => ((await readNumber(path.join(dir, f))) === null ? null : { counter: f.replace('_event_cnt', ''), file: path.join(dir, f) })));
    return readable.filter((c): c is { counter: string; file: string } => c !== null);
  }
  return [];
}


/** Every sensor found on the device, and one reading of them all. */
export class Sensors {
  private constructor(
    private readonly root: string,
    readonly power: PowerRails | null,
    readonly zones: ThermalZone[],
    /** Each CPU's scaling_cur_freq file (kHz), for the CPUs that have cpufreq. */
    private readonly cpuFreqFiles: string[],
    readonly gpuDevfreq: string | null,
    readonly overCurrent: Array<{ counter: string; file: string }>,
    private raplZones: RaplZone[],
    /** Why RAPL's counters could not be read, where they exist. */
    readonly raplUnreadable: string | null,
  ) {}

  static async find(root: string): Promise<Sensors> {
    const [power, zones, cpus, gpu, overCurrent, rapl] = await Promise.all([
      findPowerRails(root),
      findThermalZones(root),
      readCpuFreq(root),
      readGpuClock(root),
      findOverCurrentCounters(root),
      findRapl(root),
    ]);
    const cpuFreqFiles = cpus.filter((c) => c.curKHz !== null).map((c) => path.join(root, 'sys/devices/system/cpu', `cpu${c.cpu}`, 'cpufreq/scaling_cur_freq'));
    // Power rails measure the whole module: RAPL (x86 only anyway) only where there are none.
    return new Sensors(root, power, zones, cpuFreqFiles, gpu?.curHz != null ? gpu.device : null, overCurrent, power ? [] : rapl.zones, rapl.unreadable);
  }

  /** The CPU packages' RAPL energy is the run's energy counter (no power rails, no GPU counter). */
  get rapl(): readonly RaplZone[] {
    return this.raplZones;
  }

  /** Another energy counter measures the run (a GPU's NVML): RAPL is not read, so two counters never mix. */
  dropRapl(): void {
    this.raplZones = [];
  }

  /** RAPL per zone: the last raw value (µJ) and the energy counted since the first reading. */
  private raplLast: Array<number | null> = [];
  private raplUj = 0;

  get hasCpufreq(): boolean {
    return this.cpuFreqFiles.length > 0;
  }

  /** Names of the sources found, as the run file lists them. */
  get sources(): string[] {
    const s: string[] = [];
    if (this.power) s.push(this.power.source);
    if (this.hasCpufreq) s.push('cpufreq');
    if (this.zones.length > 0) s.push('thermal');
    if (this.gpuDevfreq) s.push('gpu-devfreq');
    if (this.overCurrent.length > 0) s.push('soctherm-oc');
    if (this.raplZones.length > 0) s.push('rapl');
    return s;
  }

  get empty(): boolean {
    return this.sources.length === 0;
  }

  /** Every file a reading reads, in a fixed order (the sampler worker reads exactly these). */
  get files(): string[] {
    const gpu = this.gpuDevfreq ? path.join(this.root, 'sys/class/devfreq', this.gpuDevfreq) : null;
    return [
      ...(this.power?.rails.flatMap((r) => r.files) ?? []),
      ...this.cpuFreqFiles,
      ...this.zones.map((z) => path.join(z.dir, 'temp')),
      ...(gpu ? [path.join(gpu, 'cur_freq'), path.join(gpu, 'device/load')] : []),
      ...this.raplZones.map((z) => z.energyFile),
      ...this.overCurrent.map((c) => c.file),
    ];
  }

  /** A reading from the values of `files` (same order), however they were read. */
  readingOf(values: ReadonlyArray<number | null>, tMs: number): TelemetryReading {
    const r: TelemetryReading = { tMs };
    let k = 0;
    const take = (n: number) => values.slice(k, (k += n));
    if (this.power) {
      const mw = this.power.rails.map((rail) => railMw(rail, take(rail.files.length)));
      if (mw.every((v) => v !== null)) {
        r.railsMw = Object.fromEntries(this.power.rails.map((rail, i) => [rail.name, Number((mw[i] as number).toFixed(1))]));
        r.totalPowerMw = this.power.totalRule === 'sum of rails' ? Number((mw as number[]).reduce((a, b) => a + b, 0).toFixed(1)) : r.railsMw[this.power.totalRule];
      }
    }
    const cur = take(this.cpuFreqFiles.length).filter((v): v is number => v !== null);
    if (cur.length > 0) {
      r.cpuMinKHz = Math.min(...cur);
      r.cpuMaxKHz = Math.max(...cur);
    }
    const temps: Record<string, number> = {};
    take(this.zones.length).forEach((m, i) => {
      if (m !== null && m !== undefined && m / 1000 > OFFLINE_C) temps[this.zones[i]!.type] = m / 1000;
    });
    if (Object.keys(temps).length > 0) r.tempC = temps;
    if (this.gpuDevfreq) {
      const [hz, load] = take(2);
      if (hz !== null && hz !== undefined) r.gpuHz = hz;
      // Per-mille in <devfreq>/device/load.
      if (load !== null && load !== undefined) r.gpuLoadPercent = load / 10;
    }
    if (this.raplZones.length > 0) {
      // Cumulative since the first reading, each zone's wrap at max_energy_range_uj undone
      // (readings come in time order). A failed read leaves this reading without energy.
      const raw = take(this.raplZones.length);
      if (raw.every((v) => v !== null && v !== undefined)) {
        raw.forEach((v, i) => {
          const last = this.raplLast[i];
          if (last !== null && last !== undefined) this.raplUj += v! >= last ? v! - last : v! + this.raplZones[i]!.maxUj - last;
          this.raplLast[i] = v!;
        });
        r.energyMj = this.raplUj / 1000;
      }
    }
    const oc: Record<string, number> = {};
    take(this.overCurrent.length).forEach((v, i) => {
      if (v !== null && v !== undefined) oc[this.overCurrent[i]!.counter] = v;
    });
    if (Object.keys(oc).length > 0) r.overCurrentEvents = oc;
    return r;
  }

  /** One reading of every sensor, synchronously on this thread (see readNumberSync). */
  read(tMs: number): TelemetryReading {
    return this.readingOf(this.files.map(readNumberSync), tMs);
  }

  /** The over-current counters now (null entries where a read failed). */
  async overCurrentCounts(): Promise<Array<{ counter: string; value: number | null }>> {
    return Promise.all(this.overCurrent.map(async (c) => ({ counter: c.counter, value: await readNumber(c.file) })));
  }

  /** Passive trip points by zone type. */
  get passiveTripC(): Record<string, number> {
    return Object.fromEntries(this.zones.filter((z) => z.passiveC !== null).map((z) => [z.type, z.passiveC!]));
  }
}
