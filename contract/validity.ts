/**
 * The validity verdict of a run (issue 13): whether its numbers can be trusted, and why not.
 * One home for the types every face shares; the rules that produce findings live beside their
 * inputs (latency series, device load, telemetry) and all return `Finding`s that `verdictOf`
 * folds into one verdict.
 */

/** ok: nothing found; caution: numbers usable with care; unreliable: do not quote them. */
export type Verdict = 'ok' | 'caution' | 'unreliable';

/** One observation about a run, with what it rests on and how to remove it. */
export interface Finding {
  /** Stable identifier (kebab-case, e.g. `high-dispersion`): never reworded, documented in the README. */
  code: string;
  /** What this finding alone makes of the run. */
  severity: Exclude<Verdict, 'ok'>;
  /** One line a person reads first. */
  summary: string;
  /** The numbers the rule looked at (name -> value), e.g. { covPercent: 7.2, thresholdPercent: 5 }. */
  evidence: Record<string, number | string | boolean>;
  /** Why it matters for the numbers. */
  why: string;
  /** The exact fix (a command or setting where one exists). */
  fix: string;
}

export interface Validity {
  verdict: Verdict;
  findings: Finding[];
  /** Checks that could not run on this device/run (e.g. "telemetry: no NVML"), so a reader knows what `ok` does not cover. */
  notChecked?: string[];
}

/** Verdicts and severities in order of how bad they are. */
export const VERDICT_RANK: Record<Verdict, number> = { ok: 0, caution: 1, unreliable: 2 };

/** The verdict of a set of findings: the worst severity among them, `ok` when there are none. */
export function verdictOf(findings: readonly Finding[], notChecked?: readonly string[]): Validity {
  let verdict: Verdict = 'ok';
  for (const f of findings) if (VERDICT_RANK[f.severity] > VERDICT_RANK[verdict]) verdict = f.severity;
  return notChecked && notChecked.length > 0
    ? { verdict, findings: [...findings], notChecked: [...notChecked] }
    : { verdict, findings: [...findings] };
}
