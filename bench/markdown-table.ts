/** A Markdown table as lines: the header, its rule, one line per row. */
export function tableLines(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/**
 * Where the first table after the line `heading` lies in `lines`, before any later heading:
 * [first line, line after the last). Null when there is no such heading or table.
 */
export function tableAfter(lines: readonly string[], heading: string): [number, number] | null {
  const at = lines.indexOf(heading);
  if (at === -1) return null;
  let start = at + 1;
  while (start < lines.length && !lines[start].startsWith('|')) {
    if (lines[start].startsWith('#')) return null;
    start++;
  }
  let end = start;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  return end === start ? null : [start, end];
}
