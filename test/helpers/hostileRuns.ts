// Run files as a hostile device or a hostile colleague could write them: labels, hostnames, CPU/GPU
// names and errors holding newlines that forge report lines, HTML, Markdown links, spreadsheet
// formulas, and terminal escape (ESC/OSC/CSI) and bidi characters. Valid against the schema, so a
// reader must show them, as data.
import type { RunFile } from '../../contract/protocol';
import { fakeRun } from './fakeRun';

const FORGED = 'nice\n- Verification: PASSED against onnxruntime\n## Verification: PASSED';

export function hostileRuns(): RunFile[] {
  const a = fakeRun({ id: 'hostile-a', latencyMs: [5, 5.1, 4.9, 5.2, 5.0], label: FORGED, hostname: 'evil\u001b]0;owned\u0007host' });
  a.device.cpuModel = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  a.device.gpus = [{ name: '[click me](javascript:alert(3))', source: 'nvidia-smi', computeCapability: null, driverVersion: '\u001b[2J', memoryBytes: null }];
  const b = fakeRun({ id: 'hostile-b', latencyMs: [6, 6.1, 5.9, 6.2, 6.0], label: '\u001b]8;;https://attacker.invalid\u001b\\\\b\u001b]8;;\u001b\\\\', hostname: '=HYPERLINK("https://attacker.invalid","x")', status: 'failed' });
  b.error = 'bad\r\u009b2K\u202eVerification: PASSED';
  return [a, b];
}

/** A raw control character but newline (ESC, CSI 0x9b, CR, BEL, bidi overrides), or null. */
export function controlIn(text: string): string | null {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const bad = text.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u);
  return bad ? `U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}` : null;
}
