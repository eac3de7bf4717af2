/**
 * The name in `known` that `name` most likely misspells, for "did you mean ...?" in error
 * messages; null when none is close. Case is ignored (`heartBeatDelay` means
 * `heartbeatDelay`); a name may be off by about one edit in three characters. On a tie the
 * earlier name in `known` wins.
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const wanted = name.toLowerCase();
  const allowed = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Insertions, deletions, substitutions and swaps of two neighbours that turn `a` into `b`
 * (the optimal string alignment distance): a swap is the most common slip of the fingers.
 */
function editDistance(a: string, b: string): number {
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, (previous2[j - 2] as number) + 1);
      }
      current.push(distance);
    }
    previous2 = previous;
    previous = current;
  }
  return previous[b.length] as number;
}
