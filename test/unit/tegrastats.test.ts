// tegrastats lines (issue 14's fallback source) on real lines of every module and JetPack the
// research quotes (test/fixtures/tegrastats/README.md cites each); expected values are the lines'
// own numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseTegrastatsLine, readingOfTegrastats, tegrastatsTotalMw } from '../../contract/tegrastats';

const line = (n: number) => readFileSync(path.join(__dirname, '..', 'fixtures', 'tegrastats', `f${n}.txt`), 'utf8');
const parse = (n: number) => parseTegrastatsLine(line(n))!;

test('Nano, JetPack 4 (bare mW): POM_5V_IN is the total; GPU %@MHz; PMIC is not a sensor; offline cores', () => {
  const s = parse(1);
  assert.deepEqual(s.railsMw, { POM_5V_IN: 1750, POM_5V_GPU: 0, POM_5V_CPU: 366 });
  assert.deepEqual(tegrastatsTotalMw(s.railsMw), { mw: 1750, rule: 'POM_5V_IN' });
  assert.equal(s.gpuLoadPercent, 0);
  assert.equal(s.gpuMhz, 76);
  assert.deepEqual([s.emcLoadPercent, s.emcMhz], [0, 1600]);
  assert.deepEqual(s.cpus, [0, 1, 2, 3].map((i) => ({ loadPercent: [5, 4, 3, 6][i]!, mhz: 1224 })));
  assert.deepEqual(s.tempC, { PLL: 37, CPU: 40, GPU: 40, AO: 45, thermal: 40 });
  const offline = parse(2);
  assert.deepEqual(offline.cpus, [{ loadPercent: 22, mhz: 518 }, { loadPercent: 67, mhz: 518 }, null, null]);
  assert.equal(offline.tempC['thermal'], 31.25);
});

test('Xavier NX, JetPack 4 and 5 (mW units, a dated line, GPC list), and TX2: VDD_IN is the total', () => {
  const jp4 = parse(3);
  assert.deepEqual(tegrastatsTotalMw(jp4.railsMw), { mw: 6140, rule: 'VDD_IN' });
  assert.equal(jp4.gpuMhz, 1109);
  const jp5 = parse(4);
  assert.deepEqual(jp5.railsMw, { VDD_IN: 2763, VDD_CPU_GPU_CV: 650, VDD_SOC: 650 });
  assert.equal(jp5.gpuMhz, 114, 'GR3D_FREQ 0%@[114]');
  assert.equal(jp5.cpus[1]?.mhz, 1192);
  assert.deepEqual(parse(5).cpus.slice(4), [null, null]);
  const tx2 = parse(6);
  assert.equal(Object.keys(tx2.railsMw).length, 6);
  assert.deepEqual(tegrastatsTotalMw(tx2.railsMw), { mw: 5297, rule: 'VDD_IN' });
  assert.equal(tx2.tempC['Tdiode'], 39.25);
});

test('AGX Orin: no VDD_IN (sum of rails), NC rails and -256 °C sensors dropped; JetPack 7 three-value rails and two-value temperatures', () => {
  const orin = parse(7);
  assert.deepEqual(orin.railsMw, { VDD_GPU_SOC: 2340, VDD_CPU_CV: 390, VIN_SYS_5V0: 4025, VDDQ_VDD2_1V8AO: 301 });
  assert.deepEqual(tegrastatsTotalMw(orin.railsMw), { mw: 7056, rule: 'sum of rails' });
  assert.equal('CV0' in orin.tempC || 'GPU' in orin.tempC, false, 'offline sensors');
  assert.equal(orin.tempC['tj'], 44.343);
  assert.deepEqual([orin.gpuLoadPercent, orin.gpuMhz], [0, 0]);
  const jp7 = parse(10);
  assert.deepEqual(jp7.railsMw, { VDD_GPU_SOC: 5139, VDD_CPU_CV: 3268, VIN_SYS_5V0: 5500 });
  assert.deepEqual([jp7.gpuLoadPercent, jp7.gpuMhz, jp7.emcLoadPercent, jp7.emcMhz], [12, 1300, 3, 3199]);
  assert.equal(jp7.tempC['cpu'], 52.968);
  const dla = parse(12);
  assert.deepEqual([dla.gpuLoadPercent, dla.gpuMhz], [14, 407]);
  assert.equal(tegrastatsTotalMw(dla.railsMw)!.mw, 3150 + 14312 + 4968 + 1091);
});

test('Orin Nano JetPack 6 root and non-root: what non-root hides is absent, not zero; Thor without load', () => {
  const root = parse(8);
  assert.deepEqual([root.gpuLoadPercent, root.gpuMhz, root.emcMhz], [63, 621, 2133]);
  const user = parse(9);
  assert.deepEqual([user.gpuLoadPercent, user.gpuMhz, user.emcLoadPercent], [0, null, null]);
  assert.equal(tegrastatsTotalMw(user.railsMw)!.mw, 4824);
  const r = readingOfTegrastats(user, 5);
  assert.equal(r.gpuHz, undefined);
  assert.equal(r.gpuLoadPercent, 0);
  assert.equal(r.totalPowerMw, 4824);
  assert.equal(r.cpuMaxKHz, 1420000);
  const thor = parse(11);
  assert.deepEqual([thor.gpuLoadPercent, thor.gpuMhz], [null, 1000]);
  assert.deepEqual(thor.railsMw, {});
  assert.equal(readingOfTegrastats(thor, 0).totalPowerMw, undefined);
  assert.equal(parseTegrastatsLine('hello world'), null);
});
