// Contention from two /proc snapshots: steal, other busy processes named by pid and share, load
// above the cores; the agent, its children and the client that started it are not "other". And the
// /proc reader on a crafted tree: process names with spaces and ')' parse, unreadable entries are skipped.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CONTENTION_CODES, THRESHOLDS, contentionFindings, runValidity, type ProcSnapshot } from '../../contract/validityRules';
import { snapshotProc } from '../../device-agent/src/contention';
import { fakeRun } from '../helpers/fakeRun';

type Proc = ProcSnapshot['processes'][number];
const snap = (atMs: number, processes: Proc[], o: Partial<ProcSnapshot> = {}): ProcSnapshot => ({
  atMs,
  totalTicks: 0,
  stealTicks: 0,
  loadAverage1: 0.5,
  processes,
  ticksPerSecond: 100,
  ...o,
});
// 10 s apart: a process using one full CPU gains 1000 ticks.
const AGENT = 500;
const client = { pid: 400, ppid: 1, name: 'node', ticks: 0 };
const agent = { pid: AGENT, ppid: 400, name: 'node', ticks: 0 };
const worker = { pid: 501, ppid: AGENT, name: 'node', ticks: 0 };
const idle = { pid: 10, ppid: 1, name: 'sshd', ticks: 50 };
const opts = { cpuCount: 4, selfPid: AGENT };

test('a quiet machine: no finding, even when the agent, its worker and its client were busy', () => {
  const before = snap(0, [client, agent, worker, idle], { totalTicks: 1000, stealTicks: 0 });
  const after = snap(10_000, [{ ...client, ticks: 400 }, { ...agent, ticks: 1000 }, { ...worker, ticks: 900 }, { ...idle, ticks: 51 }], { totalTicks: 5000 });
  assert.deepEqual(contentionFindings(before, after, opts), []);
});

test('another busy process: caution above a quarter of a CPU, unreliable above one, named with pid and share', () => {
  const hog = (ticks: number) => ({ pid: 777, ppid: 1, name: 'cc1plus', ticks });
  const before = snap(0, [agent, hog(100)]);
  const light = contentionFindings(before, snap(10_000, [agent, hog(100 + 200)]), opts); // 0.2 CPUs
  assert.deepEqual(light, []);
  const [mild] = contentionFindings(before, snap(10_000, [agent, hog(100 + 500)]), opts); // 0.5 CPUs
  assert.equal(mild!.code, 'busy-processes');
  assert.equal(mild!.severity, 'caution');
  assert.match(mild!.summary, /cc1plus \(pid 777, 0\.50 CPUs\)/);
  assert.equal(mild!.evidence.otherCpus, 0.5);
  const [heavy] = contentionFindings(before, snap(10_000, [agent, hog(100 + 1900)]), opts); // 1.9 CPUs
  assert.equal(heavy!.severity, 'unreliable');
  assert.ok(THRESHOLDS.busyCores.unreliable < 1.9);
});

test('a process started during the run counts with all its time; many small ones add up; the top three are named', () => {
  const before = snap(0, [agent]);
  const late = { pid: 900, ppid: 1, name: 'python3', ticks: 300 };
  const small = [1, 2, 3, 4].map((i) => ({ pid: 1000 + i, ppid: 1, name: `w ${i})`, ticks: 100 * i }));
  const before2 = snap(0, [agent, ...small.map((p) => ({ ...p, ticks: 0 }))]);
  const [f] = contentionFindings(before, snap(10_000, [agent, late]), opts);
  assert.match(f!.summary, /python3 \(pid 900, 0\.30 CPUs\)/);
  const [g] = contentionFindings(before2, snap(10_000, [agent, ...small]), opts);
  assert.equal(g!.evidence.otherCpus, 1);
  // The busiest three, busiest first; the fourth is in the total only.
  assert.match(g!.summary, /w 4\)\s\(pid 1004, 0\.40 CPUs\), w 3\) \(pid 1003, 0\.30 CPUs\), w 2\) \(pid 1002, 0\.20 CPUs\)$/);
});

test('steal above 2% of the CPU time and a load above the cores are cautions', () => {
  const before = snap(0, [agent], { totalTicks: 0, stealTicks: 0 });
  const findings = contentionFindings(before, snap(10_000, [agent], { totalTicks: 4000, stealTicks: 200, loadAverage1: 6.2 }), opts);
  assert.deepEqual(findings.map((f) => [f.code, f.severity]), [['cpu-steal', 'caution'], ['load-above-cores', 'caution']]);
  assert.equal(findings[0]!.evidence.stealPercent, 5);
  assert.deepEqual(contentionFindings(before, snap(10_000, [agent], { totalTicks: 4000, stealTicks: 40, loadAverage1: 3.9 }), opts), []);
  for (const f of findings) assert.ok(CONTENTION_CODES.has(f.code));
});

test('the verdict takes the contention findings; "not checked" names contention only when it was not sampled', () => {
  const run = fakeRun({ latencyMs: Array.from({ length: 200 }, (_, i) => 10 + (i % 3) * 0.01) });
  const input = { spec: run.spec, device: run.device, samples: run.samples, stats: run.stats! };
  const hog = { pid: 777, ppid: 1, name: 'stress', ticks: 0 };
  const found = contentionFindings(snap(0, [agent, hog]), snap(10_000, [agent, { ...hog, ticks: 2000 }]), opts);
  const v = runValidity(input, found);
  assert.equal(v.verdict, 'unreliable');
  assert.ok(!v.notChecked?.some((n) => /contention/.test(n)));
  assert.equal(runValidity(input, []).verdict, 'ok');
  assert.ok(runValidity(input, null).notChecked!.some((n) => /contention/.test(n)));
});

test('snapshotProc reads a /proc tree: totals, steal, load, and names with spaces and parentheses', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'jb-proc-'));
  writeFileSync(path.join(root, 'stat'), 'cpu  100 5 50 1000 10 1 2 7 0 0\ncpu0 50 2 25 500 5 0 1 3 0 0\n');
  writeFileSync(path.join(root, 'loadavg'), '1.25 0.80 0.50 2/300 4242\n');
  const pidStat = (pid: number, name: string, ppid: number, utime: number, stime: number) =>
    `${pid} (${name}) R ${ppid} ${pid} ${pid} 0 -1 4194304 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 12345 1000 100\n`;
  for (const [pid, text] of [
    [42, pidStat(42, 'tmux: server', 1, 30, 12)],
    [43, pidStat(43, 'odd) name', 42, 5, 5)],
  ] as const) {
    mkdirSync(path.join(root, String(pid)));
    writeFileSync(path.join(root, String(pid), 'stat'), text);
  }
  mkdirSync(path.join(root, '44')); // a process that ended between readdir and read: skipped
  mkdirSync(path.join(root, 'self'));
  const s = (await snapshotProc(root))!;
  assert.equal(s.totalTicks, 100 + 5 + 50 + 1000 + 10 + 1 + 2 + 7);
  assert.equal(s.stealTicks, 7);
  assert.equal(s.loadAverage1, 1.25);
  assert.deepEqual(
    s.processes.sort((a, b) => a.pid - b.pid),
    [
      { pid: 42, ppid: 1, name: 'tmux: server', ticks: 42 },
      { pid: 43, ppid: 42, name: 'odd) name', ticks: 10 },
    ],
  );
  assert.equal(await snapshotProc(path.join(root, 'missing')), null, 'no /proc: nothing claimed');
});
