// Text that comes from run files and devices (labels, hostnames, CPU/GPU names, error messages,
// paths) is data, never markup or terminal control: a label with a newline must not forge a report
// line ("Verification: PASSED"), a hostname must not carry an escape sequence that retitles or
// clears the terminal, a CPU name must not become HTML or a live link in a Markdown report, a cell
// must not become a spreadsheet formula. One sanitiser, used by every face that prints such text.

/** C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the Unicode
 * controls that reorder or hide text (bidi embeddings/overrides/isolates, marks, line/paragraph
 * separators, zero-width joiners are harmless and kept). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** One line of plain text: line breaks become spaces, other controls a visible `\uXXXX`. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|\r|\n|\t/g, ' ').replace(CONTROL_OR_BREAK, visible);
}

/** Text for a terminal, lines kept: every control that is not a tab or a newline is made visible,
 * so no escape sequence reaches the terminal. Our own output uses none. */
export function terminalText(s: string): string {
  return s.replace(/\r\n/g, '\n').replace(CONTROL, visible);
}

/** Markdown inline text: one line (so it cannot start a heading, a list item or a table row of its
 * own), with every character that could open markup escaped (HTML tags and autolinks `<`, links
 * and images `[`, emphasis, code, table cells `|`, strike-through), so it renders as written. */
export function markdownText(s: string): string {
  // An underscore inside a word (MODE_30W_ALL) never emphasises: left as it is, for readable sources.
  return oneLine(s)
    .replace(/[\\`*[\]<>|~]/g, (c) => `\\${c}`)
    .replace(/_/g, (c, i: number, all: string) => (/[\p{L}\p{N}]/u.test(all[i - 1] ?? '') && /[\p{L}\p{N}]/u.test(all[i + 1] ?? '') ? c : `\\${c}`));
}

/** Markdown inline code: one line, fenced with more backticks than it holds. */
export function markdownCode(s: string): string {
  const text = oneLine(s);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return longest > 0 || text.startsWith(' ') || text.endsWith(' ') ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

/** A CSV field (RFC 4180) that a spreadsheet shows as text: one line, quoted when needed, and a
 * leading = + - @ (a formula) neutralised with a quote character. */
export function csvText(s: string): string {
  let text = oneLine(s);
  if (/^[=+\-@]/.test(text) && !/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) text = `'${text}`;
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** VS Code turns `[label](https:…|command:…|file:…)` in a notification or progress message into a
 * link, and a `command:` link runs that command when clicked: a run's error or a device's progress
 * line must not carry one. Breaking `](` keeps the text readable and leaves no link. */
function noNotificationLinks(s: string): string {
  return s.replace(/\]\s*\(/g, '] (');
}

/** A notification's or progress message's text: one line, controls visible, no links. */
export function notificationText(s: string): string {
  return noNotificationLinks(oneLine(s));
}

/** A modal dialog's detail: lines kept, other controls visible, no links. */
export function notificationDetail(s: string): string {
  return noNotificationLinks(terminalText(s));
}
