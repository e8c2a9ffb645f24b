// What an SSH device costs, against a real OpenSSH sshd on loopback with the test user (as root,
// after scripts/setup-ssh.sh): the first deploy (upload of the agent bundle), a no-op redeploy,
// attaching to the agent (cold: the daemon starts; warm: it runs), and the latency of the same run
// measured locally and over SSH. The samples are measured on the device, so the transport must not
// change them: rounds alternate (local, ssh, ...) and the medians with their 95% CIs are printed,
// together with the proof that the streamed samples are the run's samples, bit for bit.
// Usage: npm run bench:ssh -- [--model yolov5n] [--threads 1] [--iterations 200] [--rounds 3] [--attaches 5]
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { RunSpec } from '../contract/protocol';
import { computeStats } from '../contract/stats';
import { connectDeviceAgent, startLocalAgent } from '../src/core/agentConnection';
import { deployAgent } from '../src/core/deploy';
import { resolveDevice, type SshDevice } from '../src/core/devices';
import { runOnAgent } from '../src/core/runClient';
import { SshSession, type SshHooks } from '../src/core/sshSession';
import { TEST_CACHE_DIR } from '../test/helpers/cli';
import { sshUnavailableReason, sshWorkspace, TestSshd } from '../test/helpers/sshd';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'yolov5n' },
    threads: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    attaches: { type: 'string', default: '5' },
  },
});
const hooks: SshHooks = { verifyHostKey: async () => false, passphrase: async () => undefined };
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await f();
  return [value, performance.now() - t0];
}

async function main(): Promise<void> {
  const unavailable = sshUnavailableReason();
  if (unavailable) throw new Error(`cannot run: ${unavailable}`);
  process.env.JETBENCH_CACHE_DIR ??= TEST_CACHE_DIR;
  const sshd = await TestSshd.start();
  try {
    const ws = sshWorkspace(sshd, { devices: [{ name: 'bench', host: 'jetbench-dev', agentIdleMinutes: 5 }] });
    const sshOpts = { knownHostsFiles: [ws.knownHostsFile], agentSocket: null, sshConfigFile: ws.sshConfigFile };
    const device = resolveDevice('bench', { cwd: ws.cwd, sshConfigFile: ws.sshConfigFile }) as SshDevice;

    const deployOnce = async (target: SshDevice = device) => {
      const [session, connectMs] = await timed(() => SshSession.connect(target, hooks, sshOpts));
      try {
        const [result, deployMs] = await timed(() => deployAgent(session, target, hooks));
        return { result, connectMs, deployMs };
      } finally {
        session.close();
      }
    };
    // The upload alone first (native build off), then the deploy that builds the native addon on
    // the device (the bundle is there: only the build runs), then no-ops (bundle and addon there).
    const first = await deployOnce({ ...device, nativeBuild: 'never' });
    console.log(`first deploy: ${ms(first.deployMs)} (${first.result.bundle.files} files, ${(first.result.bundle.bytes / 1e6).toFixed(1)} MB uploaded: ${first.result.uploaded}), after connecting in ${ms(first.connectMs)}`);
    const build = await deployOnce();
    console.log(`native addon built on the device at the next deploy: ${ms(build.deployMs)} (${build.result.native.status}; once per source hash)`);
    const noops = [];
    for (let i = 0; i < 5; i++) noops.push(await deployOnce());
    const noopMs = computeStats(noops.map((n) => n.deployMs))!.medianMs;
    const noopTotal = computeStats(noops.map((n) => n.deployMs + n.connectMs))!.medianMs;
    console.log(`no-op redeploy: ${ms(noopMs)} median of 5 (uploaded: ${noops.some((n) => n.result.uploaded)}); with the SSH connection ${ms(noopTotal)} (goal < 1 s)`);

    const connect = () => connectDeviceAgent(device, { cwd: ws.cwd, client: 'bench-ssh', hooks, ssh: sshOpts });
    const [cold, coldMs] = await timed(connect);
    await cold.dispose();
    const warm: number[] = [];
    for (let i = 0; i < Number(values.attaches); i++) {
      const [conn, t] = await timed(connect);
      warm.push(t);
      await conn.dispose();
    }
    console.log(`attach (connect + probe + forward + initialize): cold ${ms(coldMs)} (daemon started), warm ${ms(computeStats(warm)!.medianMs)} median of ${warm.length}`);

    const spec: RunSpec = {
      device: 'bench', model: values.model, backend: 'onnxruntime', precision: 'fp32', warmup: Number(values.warmup), warmupMs: 0,
      iterations: Number(values.iterations), durationS: 0, threads: Number(values.threads), inputShape: null, opset: 13, label: 'bench:ssh',
    };
    const local = await startLocalAgent({ client: 'bench-ssh' });
    const remote = await connect();
    const medians: Record<'local' | 'ssh', number[]> = { local: [], ssh: [] };
    const all: Record<'local' | 'ssh', number[]> = { local: [], ssh: [] };
    try {
      for (let r = 0; r < Number(values.rounds); r++) {
        for (const [where, rpc] of [['local', local.rpc], ['ssh', remote.resumable()]] as const) {
          const { run, streamed } = await runOnAgent(rpc, { ...spec, device: where === 'local' ? 'local' : 'bench' }, {});
          const identical = streamed.gaps === 0 && streamed.latencyMs.length === run.samples.latencyMs.length && streamed.latencyMs.every((v, i) => Object.is(v, run.samples.latencyMs[i]));
          if (!identical) throw new Error(`${where}: the streamed samples differ from the run's`);
          medians[where].push(run.stats!.medianMs);
          all[where].push(...run.samples.latencyMs);
          const s = run.stats!;
          console.log(`round ${r + 1} ${where.padEnd(5)}: median ${s.medianMs.toFixed(3)} ms [95% CI ${s.medianCi95Ms[0].toFixed(3)}, ${s.medianCi95Ms[1].toFixed(3)}], p95 ${s.p95Ms.toFixed(3)} ms, ${s.count} samples (streamed = stored: ${identical})`);
        }
      }
    } finally {
      await local.dispose();
      await remote.dispose();
    }
    const l = computeStats(all.local)!;
    const s = computeStats(all.ssh)!;
    console.log(`model ${values.model}, threads ${values.threads}, ${values.iterations} iterations x ${values.rounds} rounds, CPU ${os.cpus()[0]?.model} (${os.cpus().length} cores)`);
    console.log(`all samples: local median ${l.medianMs.toFixed(3)} ms [${l.medianCi95Ms[0].toFixed(3)}, ${l.medianCi95Ms[1].toFixed(3)}], over SSH ${s.medianMs.toFixed(3)} ms [${s.medianCi95Ms[0].toFixed(3)}, ${s.medianCi95Ms[1].toFixed(3)}]`);
    const overlap = l.medianCi95Ms[0] <= s.medianCi95Ms[1] && s.medianCi95Ms[0] <= l.medianCi95Ms[1];
    console.log(`ratio ssh/local: ${(s.medianMs / l.medianMs).toFixed(4)}; the 95% CIs of the medians ${overlap ? 'overlap (no difference beyond noise)' : 'do NOT overlap'}`);
  } finally {
    await sshd.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
