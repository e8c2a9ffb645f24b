// tegrastats lines (issue 14), the fallback where a Jetson's sysfs sensors cannot be read. Formats
// from ../shared/research/telemetry-facts.md §1: JetPack 4 rails `NAME cur/avg` (bare mW), JetPack
// 5/6 `NAME curmW/avgmW`, JetPack 7 `NAME amW/bmW/cmW`; only the first (instantaneous) value is
// used (the second is an average since tegrastats started). GPU field shapes `N%`, `N%@F`,
// `N%@[F,F]`, `@[F,F]`; CPU `[x%@f,...,off]`; temperatures `NAME@T C` or JetPack 7 `NAME@T1C/T2C`,
// -256 C = offline; PMIC's constant reading is not a sensor; `NC` rails are unconnected. Every
// field is optional (tegrastats hides many without root). Pure.
import type { TelemetryReading } from './protocol';

export interface TegrastatsSample {
  /** Rail -> instantaneous mW, NC rails left out. */
  railsMw: Record<string, number>;
  /** Per-core load (%) and clock (MHz), in core order; an offline core is null. */
  cpus: Array<{ loadPercent: number; mhz: number | null } | null>;
  gpuLoadPercent: number | null;
  /** The GPU clock (MHz; the first GPC's where tegrastats lists several). */
  gpuMhz: number | null;
  emcLoadPercent: number | null;
  emcMhz: number | null;
  /** Thermal zones as tegrastats names them (°C), offline sensors and PMIC left out. */
  tempC: Record<string, number>;
}

const RAIL = /^([A-Za-z][A-Za-z0-9_]*) (\d+(?:\.\d+)?)(?:mW)?\/(\d+(?:\.\d+)?)(?:mW)?(?:\/(\d+(?:\.\d+)?)(?:mW)?)?$/;
/** Tokens that look like rails but are not (`RAM 1923/3964MB` has a unit, `SWAP` too). */
const NOT_RAILS = new Set(['RAM', 'SWAP', 'IRAM']);

/** Total power from tegrastats rails: the module's rule (as for the sysfs rails). */
export function tegrastatsTotalMw(railsMw: Record<string, number>): { mw: number; rule: string } | null {
  const names = Object.keys(railsMw);
  if (names.length === 0) return null;
  if ('POM_5V_IN' in railsMw) return { mw: railsMw['POM_5V_IN']!, rule: 'POM_5V_IN' };
  if ('VDD_IN' in railsMw) return { mw: railsMw['VDD_IN']!, rule: 'VDD_IN' };
  return { mw: names.reduce((a, n) => a + railsMw[n]!, 0), rule: 'sum of rails' };
}

/** Parses one tegrastats line; null when it is not one (no RAM field and no rail or GPU field). */
export function parseTegrastatsLine(line: string): TegrastatsSample | null {
  // JetPack 5+ lines start with "MM-DD-YYYY HH:MM:SS ".
  const text = line.trim().replace(/^\d+-\d+-\d+ \d+:\d+:\d+ /, '');
  const s: TegrastatsSample = { railsMw: {}, cpus: [], gpuLoadPercent: null, gpuMhz: null, emcLoadPercent: null, emcMhz: null, tempC: {} };
  let recognised = false;
  const cpu = /CPU \[([^\]]*)\]/.exec(text);
  if (cpu) {
    recognised = true;
    s.cpus = cpu[1]!.split(',').map((c) => {
      const m = /^(\d+)%(?:@(\d+))?$/.exec(c.trim());
      return m ? { loadPercent: Number(m[1]), mhz: m[2] === undefined ? null : Number(m[2]) } : null;
    });
  }
  const gpu = /GR3D_FREQ (?:(\d+)%)?(?:@(?:\[([\d,]+)\]|(\d+)))?/.exec(text);
  if (gpu && (gpu[1] !== undefined || gpu[2] !== undefined || gpu[3] !== undefined)) {
    recognised = true;
    s.gpuLoadPercent = gpu[1] === undefined ? null : Number(gpu[1]);
    const f = gpu[2] !== undefined ? gpu[2].split(',')[0] : gpu[3];
    s.gpuMhz = f === undefined ? null : Number(f);
  }
  const emc = /EMC_FREQ (\d+)%(?:@(\d+))?/.exec(text);
  if (emc) {
    s.emcLoadPercent = Number(emc[1]);
    s.emcMhz = emc[2] === undefined ? null : Number(emc[2]);
  }
  for (const m of text.matchAll(/(?:^| )([A-Za-z][A-Za-z0-9_]*)@(-?\d+(?:\.\d+)?)C(?:\/-?\d+(?:\.\d+)?C)?(?= |$)/g)) {
    const zone = m[1]!;
    const c = Number(m[2]);
    if (c <= -256 || zone === 'PMIC') continue;
    s.tempC[zone] = c;
  }
  // Rails: "NAME value/value[/value]" pairs, read token pair by token pair.
  const tokens = text.split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i++) {
    const m = RAIL.exec(`${tokens[i]} ${tokens[i + 1]}`);
    if (!m || NOT_RAILS.has(m[1]!)) continue;
    recognised = true;
    if (m[1] !== 'NC') s.railsMw[m[1]!] = Number(m[2]);
    i++;
  }
  if (!recognised && !/\bRAM \d+\/\d+MB/.test(text)) return null;
  return s;
}

/** A telemetry reading from a tegrastats sample (what the watch records at time `tMs`). */
export function readingOfTegrastats(s: TegrastatsSample, tMs: number): TelemetryReading {
  const r: TelemetryReading = { tMs };
  const total = tegrastatsTotalMw(s.railsMw);
  if (total) {
    r.railsMw = { ...s.railsMw };
    r.totalPowerMw = total.mw;
  }
  const mhz = s.cpus.map((c) => c?.mhz).filter((v): v is number => v !== null && v !== undefined);
  if (mhz.length) {
    r.cpuMinKHz = Math.min(...mhz) * 1000;
    r.cpuMaxKHz = Math.max(...mhz) * 1000;
  }
  if (s.gpuMhz !== null) r.gpuHz = s.gpuMhz * 1e6;
  if (s.gpuLoadPercent !== null) r.gpuLoadPercent = s.gpuLoadPercent;
  if (Object.keys(s.tempC).length) r.tempC = { ...s.tempC };
  return r;
}
