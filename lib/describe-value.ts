/** Longest string an error message quotes in full. */
const QUOTED_LENGTH = 40;

/**
 * What a value is, in a few words, for error messages that say what was given instead of
 * what was wanted: `the string "25000"`, `the number -1`, `true`, `an array`, `a function`,
 * `an object`, `null`, `undefined`. A string is quoted so that `'25000'` is told from `25000`.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `the string ${JSON.stringify(value.length > QUOTED_LENGTH ? value.slice(0, QUOTED_LENGTH) + '…' : value)}`;
    case 'number':
      return `the number ${String(value)}`;
    case 'bigint':
      return `the bigint ${String(value)}n`;
    case 'boolean':
      return String(value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return value.name === '' ? 'a function' : `the function ${value.name}`;
    default:
      return describeObject(value);
  }
}

function describeObject(value: object): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  // A class instance is named after its class ('a Map'); a plain object is just an object.
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name === '' || name === 'Object') return 'an object';
  // Built-in classes starting with U (URL, Uint8Array) take 'a'.
  return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
}
