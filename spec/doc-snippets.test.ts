/**
 * The code of README.md and docs/guide.md as users paste it. Every `ts`, `typescript`, `js`
 * and `javascript` block is written to a file of its own and type-checked, strict, against
 * the package as users import it (`sockjs-express` resolves through package.json `exports`
 * to dist/, the published declarations), under `module: nodenext`:
 *
 * - A block with `import` or `export` is an ES module (.mts, .mjs), one with `require()` is
 *   CommonJS (.cts, .cjs), a fragment with neither an ES module. Relative imports need their
 *   `.js` extension, as Node requires; `./auth.js` is a stub of the user's own module.
 * - Fragments continue the document's earlier blocks: the names in `CONTEXT` (`app`,
 *   `server`, `chat`, ...) are declared for a block that uses them without declaring them.
 * - An ES module block may not use `require`, `__dirname` or `__filename`, which it lacks at
 *   run time though @types/node declares them everywhere.
 * - A block that points `sockjsUrl` at a path of its own server must also serve that path.
 *
 * A block that cannot be checked (rare: say why) follows a comment on the line before its
 * fence, blank lines apart: `<!-- not checked: it shows a pattern, not a program -->`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { codeBlocks, type CodeBlock } from './helpers/markdown-code';

/** The repository root, from build/spec/doc-snippets.test.js. */
const ROOT = resolve(__dirname, '..', '..');

const DOCUMENTS = ['README.md', 'docs/guide.md'];

const CHECKED_LANGUAGES: ReadonlyMap<string, 'ts' | 'js'> = new Map([
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['js', 'js'],
  ['javascript', 'js'],
]);

/**
 * Names the documents' fragments take from earlier blocks, and how each is declared for a
 * block that uses it without declaring it.
 */
const CONTEXT: ReadonlyMap<string, string> = new Map([
  ['express', "import express from 'express';"],
  ['sockjsMiddleware', "import { sockjsMiddleware } from 'sockjs-express';"],
  ['attachUpgrade', "import { attachUpgrade } from 'sockjs-express';"],
  ['app', "declare const app: import('express').Express;"],
  ['server', "declare const server: import('node:http').Server;"],
  ['chat', "declare const chat: import('sockjs-express').SockjsRouter;"],
  ['feed', "declare const feed: import('sockjs-express').SockjsRouter;"],
  ['requireUser', "declare const requireUser: import('express').RequestHandler;"],
]);

/** The user's own modules the examples import. */
const STUBS: ReadonlyMap<string, string> = new Map([
  ['users.ts', 'export interface User {\n  id: number;\n  name: string;\n}'],
  [
    'auth.ts',
    [
      "import type { RequestHandler } from 'express';",
      'export const requireLogin: RequestHandler = (_req, _res, next) => next();',
    ].join('\n'),
  ],
]);

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  esModuleInterop: true,
  allowJs: true,
  checkJs: true,
  // The published declarations are checked with skipLibCheck off by package-types.test.ts.
  skipLibCheck: true,
};

/** A checked block as a file: where it is and how many context lines precede its code. */
interface SnippetFile {
  readonly block: CodeBlock;
  readonly path: string;
  readonly esm: boolean;
  readonly contextLines: number;
}

function parseBlock(code: string, js: boolean): ts.SourceFile {
  return ts.createSourceFile(js ? 'block.js' : 'block.ts', code, ts.ScriptTarget.Latest, true);
}

/** Names a block declares or imports at its top level. */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const addBinding = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) addBinding(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) addBinding(declaration.name);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      names.add(statement.name.text);
    } else if (ts.isImportDeclaration(statement) && statement.importClause !== undefined) {
      const clause = statement.importClause;
      if (clause.name !== undefined) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) names.add(element.name.text);
      }
    }
  }
  return names;
}

/** Identifiers a block uses as values or types (not as property names). */
function usedNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node);
      if (!isPropertyName) names.add(node.text);
    }
    node.forEachChild(visit);
  };
  visit(source);
  return names;
}

function isModuleSyntax(source: ts.SourceFile): boolean {
  return source.statements.some(
    (statement) =>
      ts.isImportDeclaration(statement) ||
      ts.isExportDeclaration(statement) ||
      ts.isExportAssignment(statement) ||
      (ts.canHaveModifiers(statement) &&
        (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)),
  );
}

/** Writes `block` into `folder` as the file it is checked as. */
function writeSnippet(folder: string, block: CodeBlock, index: number): SnippetFile {
  const js = CHECKED_LANGUAGES.get(block.language) === 'js';
  const source = parseBlock(block.code, js);
  const esm = isModuleSyntax(source) || !/\brequire\(/.test(block.code);
  const declared = declaredNames(source);
  const context = js
    ? []
    : [...usedNames(source)]
        .filter((name) => CONTEXT.has(name) && !declared.has(name))
        .map((name) => CONTEXT.get(name) as string);
  // One line of context, so that every line of code keeps a fixed offset; `export {}` makes
  // a fragment a module of its own.
  const header = context.length > 0 ? [context.join(' ')] : [];
  const footer = esm && !isModuleSyntax(source) ? ['export {};'] : [];
  const extension = `.${esm ? 'm' : 'c'}${js ? 'js' : 'ts'}`;
  const name = `${block.document.replace(/\W/g, '-')}-${block.line}-${index}${extension}`;
  const path = join(folder, name);
  writeFileSync(path, [...header, block.code, ...footer].join('\n'));
  return { block, path, esm, contextLines: header.length };
}

/** A diagnostic as `document:line: message`, at the line of the document. */
function describeDiagnostic(diagnostic: ts.Diagnostic, files: readonly SnippetFile[]): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const file = diagnostic.file;
  if (file === undefined || diagnostic.start === undefined) return `TS${diagnostic.code}: ${message}`;
  const snippet = files.find((candidate) => resolve(candidate.path) === resolve(file.fileName));
  const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
  if (snippet === undefined) return `${file.fileName}:${line + 1}: TS${diagnostic.code}: ${message}`;
  const documentLine = snippet.block.line + line - snippet.contextLines;
  return `${snippet.block.document}:${documentLine}: TS${diagnostic.code}: ${message}`;
}

const COMMONJS_ONLY = new Set(['require', '__dirname', '__filename']);

/** CommonJS globals an ES module block uses without declaring them, at their lines. */
function commonJsInModule(file: SnippetFile): string[] {
  if (!file.esm) return [];
  const source = parseBlock(file.block.code, CHECKED_LANGUAGES.get(file.block.language) === 'js');
  const declared = declaredNames(source);
  const problems: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && COMMONJS_ONLY.has(node.text) && !declared.has(node.text)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      problems.push(
        `${file.block.document}:${file.block.line + line}: an ES module example uses ${node.text}`,
      );
    }
    node.forEachChild(visit);
  };
  visit(source);
  return problems;
}

/** Local paths a block gives as sockjsUrl / sockjs_url without serving them. */
function unservedClientScripts(block: CodeBlock): string[] {
  const problems: string[] = [];
  for (const match of block.code.matchAll(/sockjs_?[uU]rl:\s*'(\/[^']*)'/g)) {
    const path = match[1];
    const mentions = block.code.split(`'${path}'`).length - 1;
    if (mentions < 2) {
      problems.push(`${block.document}:${block.line}: sockjsUrl ${path} is not served by the example`);
    }
  }
  return problems;
}

describe('the code blocks of README.md and docs/guide.md', () => {
  let folder: string;
  let blocks: CodeBlock[];
  let files: SnippetFile[];

  before(() => {
    blocks = DOCUMENTS.flatMap((document) =>
      codeBlocks(document, readFileSync(join(ROOT, document), 'utf8')).filter((block) =>
        CHECKED_LANGUAGES.has(block.language),
      ),
    );
    // Inside the repository, so that `sockjs-express` resolves to the package itself.
    folder = mkdtempSync(join(ROOT, 'build', 'doc-snippets-'));
    for (const [name, code] of STUBS) writeFileSync(join(folder, name), code);
    files = blocks
      .filter((block) => block.notChecked === null)
      .map((block, index) => writeSnippet(folder, block, index));
  });

  after(() => {
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });

  it('finds the examples, and a reason for every block left unchecked', () => {
    assert.ok(files.length >= 15, `${files.length} blocks found`);
    const unexplained = blocks.filter((block) => block.notChecked === '');
    assert.deepEqual(
      unexplained.map((block) => `${block.document}:${block.line}`),
      [],
    );
  });

  it('type-checks every block against the published types', () => {
    const roots = [...files.map((file) => file.path), ...[...STUBS.keys()].map((name) => join(folder, name))];
    const program = ts.createProgram(roots, COMPILER_OPTIONS);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((diagnostic) => describeDiagnostic(diagnostic, files));
    assert.deepEqual(problems, []);
  });

  it('uses no CommonJS globals in ES module examples', () => {
    assert.deepEqual(files.flatMap(commonJsInModule), []);
  });

  it('serves the client script wherever an example points sockjsUrl at its own server', () => {
    assert.deepEqual(
      files.flatMap((file) => unservedClientScripts(file.block)),
      [],
    );
  });
});
