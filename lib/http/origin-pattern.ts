/**
 * An `origins` pattern such as `https://*.example.com`: `*` stands for any run of characters
 * but `/`, letters match in any case. Matched by walking the pattern's positions in step
 * with the origin, one character at a time: work is the origin's length times the pattern's,
 * whatever the input (a regular expression with several `*` backtracks, and one long origin
 * could hold the event loop for seconds).
 */
export function originPattern(pattern: string): (origin: string) => boolean {
  const wanted = pattern.toLowerCase();
  if (!wanted.includes('*')) return (origin) => origin.toLowerCase() === wanted;
  const size = wanted.length;
  return (origin) => {
    const text = origin.toLowerCase();
    // here[i]: the pattern's first i characters match what was read so far.
    let here = new Uint8Array(size + 1);
    let next = new Uint8Array(size + 1);
    here[0] = 1;
    skipStars(wanted, here);
    for (let at = 0; at < text.length; at++) {
      const c = text[at];
      next.fill(0);
      let any = false;
      for (let i = 0; i < size; i++) {
        if (here[i] === 0) continue;
        const p = wanted[i];
        if (p === '*') {
          if (c !== '/') next[i] = 1;
        } else if (p === c) {
          next[i + 1] = 1;
        } else {
          continue;
        }
        any = true;
      }
      if (!any) return false;
      skipStars(wanted, next);
      [here, next] = [next, here];
    }
    return here[size] === 1;
  };
}

/** A `*` may match nothing: where one is reached, so is the position after it. */
function skipStars(pattern: string, reached: Uint8Array): void {
  for (let i = 0; i < pattern.length; i++) {
    if (reached[i] === 1 && pattern[i] === '*') reached[i + 1] = 1;
  }
}
