// Why TVM tuning goes through RPC: the same model and trial budget compiled and tuned on the
// device itself vs on this machine (cross-compiling for aarch64, candidates measured on the
// device through TVM's RPC), both for real against the emulated aarch64 device (QEMU user mode,
// a Cortex-A57 like a Jetson Nano's; test/helpers/aarch64Device.ts, as root after
// scripts/setup-aarch64.sh). The device's emulated CPU is slower than a real board's, so the
// on-device figure overstates a Jetson's; the host figure is what this machine gives.
// Usage: npm run bench:tvm-rpc -- [--model tiny] [--trials 4]
import { performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BuildResult } from '../contract/protocol';
import { aarch64Unavailable, releaseBinfmt, startAarch64Sshd } from '../test/helpers/aarch64Device';
import { runCli } from '../test/helpers/cli';
import { sshWorkspace } from '../test/helpers/sshd';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'tiny' }, trials: { type: 'string', default: '4' } } });

async function main(): Promise<void> {
  const mounted = { binfmt: false };
  const why = aarch64Unavailable(mounted);
  if (why) {
    console.log(`SKIPPED: ${why}`);
    return;
  }
  const sshd = await startAarch64Sshd();
  const ws = sshWorkspace(sshd, { devices: [{ name: 'orin', host: 'jetbench-dev', agentIdleMinutes: 1 }] });
  const hostLog = mkdtempSync(path.join(os.tmpdir(), 'jb-tvm-rpc-log-'));
  const cli = (args: string[]) => runCli(args, { cwd: ws.cwd, env: ws.env });
  try {
    const deployed = await cli(['deploy', '--device', 'orin']);
    if (deployed.code !== 0) throw new Error(deployed.stderr);
    const common = ['build', '--device', 'orin', '--backend', 'tvm', '--model', values.model, '--tune-trials', values.trials, '--json'];
    const timed = async (args: string[]) => {
      const t0 = performance.now();
      const r = await cli(args);
      if (r.code !== 0) throw new Error(`jetbench ${args.join(' ')}: ${r.stderr}`);
      return { wallS: (performance.now() - t0) / 1000, out: JSON.parse(r.stdout) as unknown };
    };
    // Fresh tuning logs on both sides: each tunes from nothing.
    const deviceLog = `/tmp/jb-tvm-rpc-device-log-${process.pid}`;
    const onDevice = await timed([...common, '--tuning-log', deviceLog]);
    const viaRpc = await timed([...common, '--tuning-log', hostLog, '--rpc', 'device']);
    const d = (onDevice.out as BuildResult).artifact.flags;
    const h = (viaRpc.out as { host: BuildResult }).host.artifact.flags;
    const s = (v: unknown) => `${(Number(v ?? 0) / 1000).toFixed(1)} s`;
    console.log(`model ${values.model}, ${values.trials} MetaSchedule trials (conv2d tasks), TVM ${String(d.tvm)}`);
    console.log('                      import    tuning   compile   whole command');
    console.log(`on the device          ${s(d.importMs).padStart(7)}  ${s(d.tuneMs).padStart(7)}  ${s(d.compileMs).padStart(7)}   ${onDevice.wallS.toFixed(1)} s`);
    console.log(`here, through RPC      ${s(h.importMs).padStart(7)}  ${s(h.tuneMs).padStart(7)}  ${s(h.compileMs).padStart(7)}   ${viaRpc.wallS.toFixed(1)} s (RPC servers' start, check run and install included)`);
    console.log(`compile: ${(Number(d.compileMs) / Number(h.compileMs)).toFixed(1)}x faster here; tuning: ${(Number(d.tuneMs) / Number(h.tuneMs)).toFixed(1)}x`);
    sshd.asUser(`rm -rf ${deviceLog}`);
  } finally {
    rmSync(hostLog, { recursive: true, force: true });
    await sshd.dispose();
    releaseBinfmt(mounted);
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
