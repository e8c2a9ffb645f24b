// Entry point of the `jetbench` bin (dist/cli.js).
import { terminalText } from '../../contract/untrustedText';
import { cli } from './main';

/** The one escape sequence the CLI writes itself: back to the line start and clear it (the live
 * progress line on a terminal). */
const CLEAR_LINE = '\r\x1b[K';

/** Everything the CLI prints passes here: text from run files and devices (labels, hostnames,
 * errors, progress) reaches the terminal with its control characters made visible, so none can
 * move the cursor, retitle the window or hide text. */
function safe(text: string): string {
  return text.startsWith(CLEAR_LINE) ? CLEAR_LINE + terminalText(text.slice(CLEAR_LINE.length)) : terminalText(text);
}

// A reader that stops early (`jetbench report ... | head -c1`) closes the pipe: what is left to print
// has nowhere to go, and the run file is already written; not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

cli(process.argv.slice(2), {
  out: (t) => process.stdout.write(safe(t)),
  err: (t) => process.stderr.write(safe(t)),
  cwd: process.cwd(),
  isTty: !!process.stderr.isTTY,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(safe(`jetbench: ${(e as Error).stack ?? String(e)}\n`));
    process.exitCode = 1;
  },
);
