/** The values of the bench runners' command-line flags. */

/** `a,b,c` as its items; empty items dropped. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '').split(',').filter((v) => v !== '');
}

/** A flag's value as a positive integer, or an error naming the flag. */
export function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive integer`);
  return n;
}
