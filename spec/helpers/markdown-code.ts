/** Fenced code blocks of a markdown document, with where they start. */

/** One fenced block. */
export interface CodeBlock {
  /** The document, relative to the repository root. */
  readonly document: string;
  /** The line (1-based) of the block's first line of code. */
  readonly line: number;
  /** The fence's language tag, lower case ('' for none). */
  readonly language: string;
  readonly code: string;
  /** The reason given by a `<!-- not checked: reason -->` comment before the fence, or null. */
  readonly notChecked: string | null;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
const NOT_CHECKED = /^<!--\s*not checked:\s*(.*?)\s*-->$/;

/** The reason of a `<!-- not checked: ... -->` comment on the last non-blank line before `index`. */
function notCheckedBefore(lines: readonly string[], index: number): string | null {
  let previous = index - 1;
  while (previous >= 0 && lines[previous].trim() === '') previous--;
  if (previous < 0) return null;
  const match = NOT_CHECKED.exec(lines[previous].trim());
  return match === null ? null : match[1];
}

/** Every fenced block of `markdown`, in order. */
export function codeBlocks(document: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]);
    if (open === null) continue;
    const [, indent, fence, language] = open;
    const code: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence)) {
      // A block indented under a list item: its lines carry the fence's indent.
      code.push(lines[end].startsWith(indent) ? lines[end].slice(indent.length) : lines[end]);
      end++;
    }
    blocks.push({
      document,
      line: index + 2,
      language: language.toLowerCase(),
      code: code.join('\n'),
      notChecked: notCheckedBefore(lines, index),
    });
    index = end;
  }
  return blocks;
}
