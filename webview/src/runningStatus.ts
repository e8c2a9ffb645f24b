// The result panel's status line while a run is in progress.

/** The count the agent's runner puts in its progress ("measuring: 209/300 iterations"). */
const ITERATION_COUNT = /:?\s*\d+(\s*\/\s*\d+)?\s+iterations?\s*$/i;

/** `$/progress` is rate-limited while samples stream in their own batches, so a count in the
 *  progress message lags the sample counts and the line contradicted itself ("209/300 iterations:
 *  20 warm-up, 214 measured"). The sample counts are the newer truth: a count-only message is
 *  dropped and its phase ("measuring") kept, as is any other message (building an engine). */
export function runningStatusText(message: string, warmupCount: number, measuredCount: number): string {
  const phase = message.replace(ITERATION_COUNT, '').trim();
  const what = phase ? `: ${phase}` : '';
  return `Running${what} — ${warmupCount} warm-up, ${measuredCount} measured`;
}

/** What the percentile table says when there is no measured sample: a run that ended (cancelled
 *  or failed) before its first measured iteration must say so, not "yet" as if still running. */
export function noSamplesText(runStatus: 'ok' | 'failed' | 'cancelled' | undefined): string {
  if (runStatus === 'cancelled') return 'Cancelled before any measured iteration.';
  if (runStatus === 'failed') return 'The run failed before any measured iteration.';
  return 'No measured iterations yet.';
}
