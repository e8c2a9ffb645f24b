// Text from run files is data (issue 18 item 7): hostile labels, hostnames, errors and CPU/GPU
// names cannot forge report lines, become HTML or live links, formulas in a spreadsheet, or
// escape sequences on a terminal. Properties are checked, not exact renderings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvText, markdownText, oneLine, terminalText } from '../../contract/untrustedText';
import { formatBenchTable, formatCompareTable, formatReport } from '../../src/core/report';
import { fakeRun } from '../helpers/fakeRun';
import type { RunFile } from '../../contract/protocol';

const FORGED = 'nice\n- Verification: PASSED against onnxruntime\n## Verification: PASSED';

export function hostileRuns(): RunFile[] {
  const a = fakeRun({ id: 'hostile-a', latencyMs: [5, 5.1, 4.9, 5.2, 5.0], label: FORGED, hostname: 'evil\u001b]0;owned\u0007host' });
  a.device.cpuModel = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  a.device.gpus = [{ name: '[click me](javascript:alert(3))', computeCapability: null, driverVersion: '\u001b[2J', memoryBytes: null } as unknown as RunFile['device']['gpus'][number]];
  const b = fakeRun({ id: 'hostile-b', latencyMs: [6, 6.1, 5.9, 6.2, 6.0], label: '\u001b]8;;https://attacker.invalid\u001b\\\\b\u001b]8;;\u001b\\\\', hostname: '=HYPERLINK("https://attacker.invalid","x")', status: 'failed' });
  b.error = 'bad\r\u009b2K\u202eVerification: PASSED';
  return [a, b];
}

/** No raw control character but newline (ESC, CSI 0x9b, CR, BEL, bidi overrides). */
function assertNoControls(text: string, where: string): void {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const bad = text.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
  assert.equal(bad, null, `${where}: control U+${bad?.[0]?.charCodeAt(0).toString(16)} in output`);
}

test('the sanitiser keeps text readable and makes every control visible', () => {
  assert.equal(oneLine('a\nb\tc\u001b[2J'), 'a b c\\u001b[2J');
  assert.equal(terminalText('line 1\nline 2\u009b2K\u202e'), 'line 1\nline 2\\u009b2K\\u202e');
  assert.equal(markdownText('MODE_30W_ALL <b>[x](y)</b> *z* _w_'), 'MODE_30W_ALL \\<b\\>\\[x\\](y)\\</b\\> \\*z\\* \\_w\\_');
  assert.equal(csvText('=HYPERLINK("u","x")'), `"'=HYPERLINK(""u"",""x"")"`);
  assert.equal(csvText('-1.5'), '-1.5');
  assert.equal(csvText('plain'), 'plain');
});

test('report --format md: no forged lines, no HTML, no live links, no controls', () => {
  const md = formatReport(hostileRuns(), 'md');
  assertNoControls(md, 'md report');
  const lines = md.split('\n');
  // The only Verification lines are real ones (none here) and no heading was forged.
  assert.deepEqual(lines.filter((l) => /^(- )?#*\s*Verification:/.test(l)), []);
  assert.equal(lines.filter((l) => l.startsWith('## ')).length, 3, 'two run sections and the comparison, nothing more');
  assert.doesNotMatch(md, /(?<!\\)<(img|script)/i, 'no raw HTML');
  assert.doesNotMatch(md, /(?<!\\)\[click me(?<!\\)\]\(/, 'no live Markdown link');
});

test('compare (text and md), the bench table and CSV carry no controls and no formulas', () => {
  const runs = hostileRuns();
  const text = formatCompareTable(runs, 0, 'text').split('\n');
  assert.equal(text.filter((l) => /^\S/.test(l) && !/^(Run|-|Ratio|Significant)/.test(l)).length, 2, `one line per run:\n${text.join('\n')}`);
  for (const [where, text] of [
    ['compare text', formatCompareTable(runs, 0, 'text')],
    ['compare md', formatCompareTable(runs, 0, 'md')],
    ['csv', formatReport(runs, 'csv')],
  ] as const) {
    assertNoControls(text, where);
  }
  // Every row of the Markdown comparison has as many cells as its header: no cell split a row.
  const md = formatCompareTable(runs, 0, 'md').split('\n').filter((l) => l.startsWith('|'));
  const count = (l: string) => l.replace(/\\\|/g, '').split('|').length;
  for (const l of md) assert.equal(count(l), count(md[0]!), l);
  const csv = formatReport(runs, 'csv').trim().split('\n');
  assert.equal(csv.length, 3, 'a header and one line per run: no field broke a line');
  assert.ok(!csv.some((l) => /(^|,)=HYPERLINK/.test(l)), 'no cell starts a formula');
  // The terminal table: its text is made safe at the CLI's output (bin.ts); the table keeps one
  // header line per run.
  assert.equal(formatBenchTable(runs[0]!).split('\n')[0]!.includes('\n'), false);
});
