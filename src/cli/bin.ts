// Entry point of the `jetbench` bin (dist/cli.js).
import { cli } from './main';

cli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  isTty: !!process.stderr.isTTY,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`jetbench: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
