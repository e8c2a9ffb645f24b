// "Did you mean": the known name closest to a mistyped one, by edit distance.

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters (the commonest typo, `--iteratinos`) each cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate a typo most likely meant: the only one that starts with it (`--iter`), else the
 * nearest within a third of its length (at least 1, at most 3 edits); null when none is close. */
export function closest(input: string, candidates: readonly string[]): string | null {
  const lower = input.toLowerCase();
  const prefixed = candidates.filter((c) => lower.length >= 2 && c.startsWith(lower));
  if (prefixed.length === 1) return prefixed[0]!;
  const limit = Math.min(3, Math.max(1, Math.floor(lower.length / 3)));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    const dist = editDistance(lower, c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best;
}
