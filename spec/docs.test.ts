/**
 * docs/api.md against the code, so the reference cannot drift: every export, every option
 * (with its type, default and sockjs-node alias) and every public member of the objects
 * users hold is read from the TypeScript sources with the compiler API and looked up in
 * the document.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, it } from 'node:test';
import ts from 'typescript';

/** The repository root, from build/spec/docs.test.js. */
const ROOT = resolve(__dirname, '..', '..');

function parse(relativePath: string): ts.SourceFile {
  const path = join(ROOT, relativePath);
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
}

/** One documented member of an interface or class, as the source declares it. */
interface Member {
  readonly name: string;
  /** The declared type as written, whitespace collapsed; '' for methods and accessors. */
  readonly type: string;
  /** JSDoc tags by name (`default`, `deprecated`), with their text. */
  readonly tags: ReadonlyMap<string, string>;
  /** The JSDoc text before the tags. */
  readonly comment: string;
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function memberName(name: ts.PropertyName | undefined): string | null {
  if (name === undefined) return null;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name)) return name.text;
  // `[SERVICE]` and `#private` names are not part of the documented surface.
  return null;
}

function isHidden(node: ts.Node): boolean {
  const modifiers = ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : [];
  if (
    modifiers.some(
      (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
    )
  ) {
    return true;
  }
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

function describeMember(node: ts.Node, name: string, type: ts.TypeNode | undefined): Member {
  const tags = new Map<string, string>();
  for (const tag of ts.getJSDocTags(node)) {
    tags.set(tag.tagName.text, squash(ts.getTextOfJSDocComment(tag.comment) ?? ''));
  }
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  const comment = squash(docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join(' '));
  return { name, type: type === undefined ? '' : squash(type.getText()), tags, comment };
}

/** The public members of the interface or class `name` declared in `file`, in order. */
function membersOf(file: ts.SourceFile, name: string): Member[] {
  const members: Member[] = [];
  const seen = new Set<string>();
  const add = (member: Member): void => {
    if (seen.has(member.name)) return;
    seen.add(member.name);
    members.push(member);
  };
  let found = false;
  file.forEachChild((node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === name) {
      found = true;
      for (const member of node.members) {
        if (isHidden(member)) continue;
        if (ts.isConstructorDeclaration(member)) {
          // `readonly prefix: string` as a constructor parameter is a public property.
          for (const parameter of member.parameters) {
            const hasModifier = (ts.getModifiers(parameter) ?? []).length > 0;
            if (!hasModifier || isHidden(parameter) || !ts.isIdentifier(parameter.name)) continue;
            add(describeMember(parameter, parameter.name.text, parameter.type));
          }
          continue;
        }
        const memberNameText = memberName(member.name);
        if (memberNameText === null) continue;
        const type =
          ts.isPropertySignature(member) || ts.isPropertyDeclaration(member) ? member.type : undefined;
        add(describeMember(member, memberNameText, type));
      }
    }
  });
  assert.ok(found, `${name} is declared in ${file.fileName}`);
  return members;
}

/** The string literals of `type Name = Pick<X, 'a' | 'b'>`, or of a plain literal union. */
function literalsOfAlias(file: ts.SourceFile, name: string): string[] {
  const literals: string[] = [];
  const collect = (node: ts.Node): void => {
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) literals.push(node.literal.text);
    node.forEachChild(collect);
  };
  file.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node) && node.name.text === name) collect(node.type);
  });
  assert.ok(literals.length > 0, `${name} has string literals in ${file.fileName}`);
  return literals;
}

/** Every name `lib/index.ts` exports, values and types. */
function exportedNames(file: ts.SourceFile): string[] {
  const names: string[] = [];
  file.forEachChild((node) => {
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const element of node.exportClause.elements) names.push(element.name.text);
    }
  });
  return names;
}

/**
 * The markdown of the section whose heading contains `title`, up to the next heading of its
 * level (or, with `nested` false, up to the next heading of any level).
 */
function section(markdown: string, title: string, nested = true): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#{1,6} /.test(line) && line.includes(title));
  assert.notEqual(start, -1, `docs/api.md has a heading with ${title}`);
  const level = /^#+/.exec(lines[start])?.[0].length ?? 1;
  let end = start + 1;
  while (end < lines.length) {
    const heading = /^(#+) /.exec(lines[end]);
    if (heading !== null && (!nested || heading[1].length <= level)) break;
    end++;
  }
  return lines.slice(start, end).join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The table row whose first cell is `name` in backticks (with or without arguments). */
function rowFor(markdown: string, name: string): string | undefined {
  const pattern = new RegExp('^\\|\\s*`' + escapeRegExp(name) + '(`|\\()');
  return markdown.split('\n').find((line) => pattern.test(line));
}

/** Table cells as plain text: escaped pipes back to pipes, whitespace collapsed. */
function cellText(row: string): string {
  return squash(row.replace(/\\\|/g, '|'));
}

/** Whether `name` appears in backticks, e.g. `name`, `name(x)` or `name: type`. */
function mentions(markdown: string, name: string): boolean {
  return new RegExp('`' + escapeRegExp(name) + '(?![A-Za-z0-9_])').test(markdown);
}

/** The first word of a `@default` text, as the table must show it. */
function defaultToken(text: string): string {
  const first = text.split(' ')[0];
  const quoted = /^'(.+)'$/.exec(first);
  return quoted === null ? first : quoted[1];
}

describe('docs/api.md', () => {
  let api: string;
  let options: ts.SourceFile;
  let compatOptions: ts.SourceFile;

  before(() => {
    api = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    options = parse('lib/options.ts');
    compatOptions = parse('lib/compat/options.ts');
  });

  it('lists every export of lib/index.ts in the Exports table', () => {
    const exports = section(api, '## Exports');
    const names = exportedNames(parse('lib/index.ts'));
    assert.ok(names.length > 10, 'lib/index.ts exports were found');
    const missing = names.filter((name) => rowFor(exports, name) === undefined);
    assert.deepEqual(missing, [], 'exports without a row in the Exports table');
  });

  it('lists every runtime export of the built package', (t) => {
    const entry = join(ROOT, 'dist', 'index.js');
    if (!existsSync(entry)) {
      t.skip('dist/ is not built');
      return;
    }
    const exports = section(api, '## Exports');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = Object.keys(require(entry) as object).filter((name) => name !== '__esModule');
    const missing = built.filter((name) => rowFor(exports, name) === undefined);
    assert.deepEqual(missing, [], 'runtime exports without a row in the Exports table');
  });

  it('documents every SockjsOptions property with its type, default and alias', () => {
    const table = section(api, '## Options');
    const members = membersOf(options, 'SockjsOptions');
    assert.ok(members.length > 15, 'SockjsOptions properties were found');
    const problems: string[] = [];
    for (const member of members) {
      const aliasOf = /alias of `(\w+)`/.exec(member.tags.get('deprecated') ?? '');
      if (aliasOf !== null) {
        const row = rowFor(table, aliasOf[1]);
        if (row === undefined || !mentions(row, member.name)) {
          problems.push(`${member.name}: not shown as the alias in the row of ${aliasOf[1]}`);
        }
        continue;
      }
      const row = rowFor(table, member.name);
      if (row === undefined) {
        problems.push(`${member.name}: no row`);
        continue;
      }
      const text = cellText(row);
      if (!text.includes(member.type)) problems.push(`${member.name}: type ${member.type} not in its row`);
      const byDefault = member.tags.get('default');
      if (byDefault !== undefined && !text.includes(defaultToken(byDefault))) {
        problems.push(`${member.name}: default ${defaultToken(byDefault)} not in its row`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('has no row for an option that does not exist', () => {
    const table = section(api, '## Options', false);
    const known = new Set(membersOf(options, 'SockjsOptions').map((member) => member.name));
    const rows = table
      .split('\n')
      .map((line) => /^\|\s*`(\w+)`\s*\|/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    assert.ok(rows.length > 10, 'the Options table has rows');
    assert.deepEqual(
      rows.filter((name) => !known.has(name)),
      [],
    );
  });

  it('documents every createServer() option of CompatServerOptions', () => {
    const table = section(api, '### `CompatServerOptions`');
    const problems: string[] = [];
    for (const member of membersOf(compatOptions, 'CompatServerOptions')) {
      const row = rowFor(table, member.name);
      if (row === undefined) {
        problems.push(`${member.name}: no row`);
        continue;
      }
      const text = cellText(row);
      if (!text.includes(member.type)) problems.push(`${member.name}: type ${member.type} not in its row`);
      const byDefault = member.tags.get('default');
      if (byDefault !== undefined && !text.includes(defaultToken(byDefault))) {
        problems.push(`${member.name}: default ${defaultToken(byDefault)} not in its row`);
      }
    }
    assert.deepEqual(problems, []);
  });

  const memberTables: readonly [file: string, declaration: string, heading: string][] = [
    ['lib/compat/options.ts', 'FayeServerOptions', '### `FayeServerOptions`'],
    ['lib/options.ts', 'JsessionidCookieOptions', '### `JsessionidCookieOptions`'],
    ['lib/service.ts', 'ServiceStats', '## `ServiceStats`'],
    ['lib/middleware.ts', 'SockjsRouter', '## Router (`SockjsRouter`)'],
    ['lib/session/connection.ts', 'Connection', '## `Connection`'],
    ['lib/session/connection.ts', 'ConnectionEvents', '## `Connection`'],
    ['lib/compat/server.ts', 'SockjsServer', '### `SockjsServer`'],
  ];
  for (const [file, declaration, heading] of memberTables) {
    it(`documents every public member of ${declaration}`, () => {
      const text = section(api, heading);
      const members = membersOf(parse(file), declaration);
      assert.ok(members.length > 0, `${declaration} has members`);
      const missing = members.filter((member) => !mentions(text, member.name)).map((member) => member.name);
      assert.deepEqual(missing, [], `members of ${declaration} missing under "${heading}"`);
    });
  }

  it('documents every field of WebsocketOptions', () => {
    const text = section(api, '### `WebsocketOptions`');
    const fields = membersOf(options, 'WebsocketOptions').map((member) => member.name);
    assert.ok(fields.length > 3, 'WebsocketOptions fields were found');
    const missing = fields.filter((name) => !mentions(text, name));
    assert.deepEqual(missing, []);
  });

  it('names every transport and connection protocol', () => {
    const transports = section(api, '## `TRANSPORT_NAMES` and `TransportName`');
    const protocols = section(api, '## `ConnectionProtocol`');
    const transportNames = literalsOfAlias(options, 'TransportName');
    const protocolNames = literalsOfAlias(parse('lib/transports/receiver.ts'), 'ConnectionProtocol');
    assert.deepEqual(
      transportNames.filter((name) => !transports.includes(`'${name}'`)),
      [],
    );
    assert.deepEqual(
      protocolNames.filter((name) => !protocols.includes(`'${name}'`)),
      [],
    );
  });
});
