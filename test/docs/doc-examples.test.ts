/**
 * The reference as a contract: every `@example` in the doc comments of `src/` is type-checked and run.
 *
 * - **Collection.** Every JSDoc comment of every `src/**\/*.ts` file is read from the parsed source (comments
 *   are found as the leading and trailing trivia of every token, so strings and templates never confuse the
 *   scan). An `@example` runs from its tag to the next tag or the end of the comment, and holds exactly one
 *   fenced ```ts block (prose around it is allowed). An inline example (backticks in a sentence) or a second
 *   block is a failure that names `file:line`.
 * - **Implicit names.** Each block is a module in a temporary folder. A name the block uses but does not
 *   declare at its top level is imported for it: every export of "difftypes" and of "difftypes/node" (the
 *   export lists are read from `src/index.ts` and `src/node.ts` by the compiler), then the *fixtures*, the
 *   named exports of `test/docs/fixtures/*.ts` (one name, one fixture; a name exported twice, or also
 *   exported by the package, is a failure). Fixtures are loaded afresh for every block, so an example that
 *   changes one cannot change the next. `docs/examples.md` shows users every fixture file as written, and a
 *   test checks that the page lists exactly the fixtures.
 * - **Types.** All blocks type-check together in one strict program on the repository's compiler settings,
 *   in the project's decorator mode (`noUnusedLocals` off; the diagnostics of the examples, since `npm run
 *   typecheck` checks the sources). An example that shows a compile error writes
 *   `// @ts-expect-error` on the line before, so the error is proven; the line still runs.
 * - **Runs and values.** Every block runs with its console silenced and its working directory in a fresh
 *   temporary folder. A *value comment* is asserted: a statement line `expr; // <literal>` (or
 *   `const name = expr; // <literal>`) where the whole comment is a JSON-like literal (numbers, `NaN`,
 *   `Infinity`, strings in double quotes, `true`, `false`, `null`, nested arrays of those). A tensor compares
 *   by `toArray()`, a typed array by `Array.from`, numbers within |a - b| ≤ 1e-4·max(1, |b|) (float32), all
 *   else exactly. A statement line `expr; // throws RangeError` (optionally `: <the message's beginning>`,
 *   a trailing `...` allowed) must throw that error (or reject with it, when it awaits). Every checked
 *   comment must be reached. Any other comment is prose and is not checked.
 *   Failures name the source `file:line` of the comment or the throwing line, and the actual value.
 * - **Fragments.** A block whose first line is `// fragment: <why>` is skipped; the fragments are pinned below.
 * - **Areas.** Every export of the package declared in a covered folder has a `@category`, so the reference
 *   is grouped by area.
 * - **Coverage.** `covered` lists the folders whose examples are checked; it grows to all of `src`.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, expect, test, vi } from "vitest";

/** The folders (or files) of `src/` whose examples are checked. */
const covered = ["src"];
/** Examples that are only fragments, as `file:line` of their `@example` tag: pinned, so a new one is a visible change. */
const pinnedFragments: string[] = [];

const root = fileURLToPath(new URL("../..", import.meta.url));
const entries: Record<string, string> = {
  difftypes: path.join(root, "src", "index.ts"),
  "difftypes/node": path.join(root, "src", "node.ts"),
};
const fixturesDir = path.join(root, "test", "docs", "fixtures");
/** How fixture files import the library; `docs/examples.md` shows them importing "difftypes" instead. */
const fixtureLibraryImport = "../../../src/index.js";

interface Example {
  /** `src/ops/binary.ts:120`: the file and the line of the `@example` tag. */
  where: string;
  file: string;
  /** The code of the fenced block. */
  code: string;
  /** The source line (1-based) of each line of `code`. */
  lines: number[];
  fragment: boolean;
}

// ---- collection ----

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return sourceFiles(full);
      return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [full] : [];
    });
}

/** Every JSDoc comment of a file, as its text and starting offset. */
function jsdocComments(text: string, fileName: string): { pos: number; text: string }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const seen = new Map<number, string>();
  const note = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) {
      const t = text.slice(r.pos, r.end);
      if (r.kind === ts.SyntaxKind.MultiLineCommentTrivia && t.startsWith("/**")) seen.set(r.pos, t);
    }
  };
  // Only the subtrees whose text holds a `/**` are walked, which keeps the walk over every token cheap.
  const starts: number[] = [];
  for (let at = text.indexOf("/**"); at >= 0; at = text.indexOf("/**", at + 3)) starts.push(at);
  const holds = (node: ts.Node) => starts.some((at) => at >= node.pos && at < node.end);
  const visit = (node: ts.Node) => {
    note(ts.getLeadingCommentRanges(text, node.pos));
    note(ts.getTrailingCommentRanges(text, node.end));
    for (const child of node.getChildren(sf)) if (holds(child)) visit(child);
  };
  visit(sf);
  return [...seen.entries()].sort(([a], [b]) => a - b).map(([pos, t]) => ({ pos, text: t }));
}

const tagAt = /(^|[^\w`@{])@example\b/;

/** The examples of one file, and the problems found collecting them. */
function collect(file: string, text = readFileSync(path.join(root, file), "utf8")): { examples: Example[]; problems: string[] } {
  const lineOf = (pos: number) => text.slice(0, pos).split("\n").length;
  const examples: Example[] = [];
  const problems: string[] = [];
  for (const comment of jsdocComments(text, file)) {
    const first = lineOf(comment.pos);
    // The comment's lines without `/**`, `*/` and the leading ` * `.
    const raw = comment.text.split("\n");
    const body = raw.map((l, i) => {
      let s = l;
      if (i === 0) s = s.replace(/^\/\*\*/, "");
      if (i === raw.length - 1) s = s.replace(/\*\/\s*$/, "");
      if (i > 0) s = s.replace(/^\s*\* ?/, "");
      return s;
    });
    let inFence = false;
    for (let i = 0; i < body.length; i++) {
      const line = body[i]!;
      if (line.trim().startsWith("```")) {
        inFence = !inFence;
        continue;
      }
      if (inFence) continue;
      const m = tagAt.exec(line);
      if (!m) continue;
      const where = `${file}:${first + i}`;
      // The tag's content: the rest of this line, then every line up to the next tag outside a fence.
      const content: { text: string; line: number }[] = [{ text: line.slice(m.index + m[0].length), line: first + i }];
      let fence = false;
      let j = i + 1;
      for (; j < body.length; j++) {
        const l = body[j]!;
        if (l.trim().startsWith("```")) fence = !fence;
        else if (!fence && /^\s*@\w/.test(l)) break;
        content.push({ text: l, line: first + j });
      }
      i = j - 1;
      const opens = content.filter((c) => c.text.trim().startsWith("```")).length;
      const start = content.findIndex((c) => c.text.trim() === "```ts");
      if (opens === 0) {
        problems.push(`${where}: an inline example; write it as a fenced \`\`\`ts block`);
        continue;
      }
      if (start < 0 || opens % 2 !== 0 || opens > 2) {
        problems.push(`${where}: an example holds exactly one fenced \`\`\`ts block (found ${Math.floor(opens / 2)} block(s)${opens % 2 ? ", one unclosed" : ""}${start < 0 ? ", none marked ts" : ""})`);
        continue;
      }
      const end = content.findIndex((c, k) => k > start && c.text.trim() === "```");
      const block = content.slice(start + 1, end);
      // The block's common indentation goes (a comment's ` * ` may be followed by more spaces).
      const indent = Math.min(...block.filter((c) => c.text.trim() !== "").map((c) => /^ */.exec(c.text)![0].length));
      const code = block.map((c) => c.text.slice(Number.isFinite(indent) ? indent : 0)).join("\n") + "\n";
      examples.push({ where, file, code, lines: block.map((c) => c.line), fragment: /^\/\/ fragment: \S/.test(block[0]?.text.trim() ?? "") });
    }
  }
  return { examples, problems };
}

// ---- names: the package's exports, the fixtures, and what a block declares and uses ----

interface Exported {
  name: string;
  /** Where it comes from: "difftypes", "difftypes/node", or a fixture file. */
  from: string;
  typeOnly: boolean;
}

/** The exports of the package's two entries and of the fixture files, read by the compiler. */
function exportsOf(program: ts.Program, files: string[]): Map<string, Exported[]> {
  const checker = program.getTypeChecker();
  const out = new Map<string, Exported[]>();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const module = sf && checker.getSymbolAtLocation(sf);
    if (!module) throw new Error(`${file}: not a module`);
    for (const s of checker.getExportsOfModule(module)) {
      const typeOnlyExport = (s.declarations ?? []).some((d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly));
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const typeOnly = typeOnlyExport || !(target.flags & ts.SymbolFlags.Value);
      out.set(file, [...(out.get(file) ?? []), { name: s.getName(), from: file, typeOnly }]);
    }
  }
  return out;
}

function bindingNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) into.add(name.text);
  else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bindingNames(e.name, into);
}

/** The names a block declares at its top level, and every identifier it mentions. */
function namesOf(code: string): { declared: Set<string>; used: Set<string> } {
  const sf = ts.createSourceFile("block.ts", code, ts.ScriptTarget.Latest, true);
  const declared = new Set<string>();
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s)) {
      const c = s.importClause;
      if (c?.name) declared.add(c.name.text);
      const b = c?.namedBindings;
      if (b && ts.isNamespaceImport(b)) declared.add(b.name.text);
      if (b && ts.isNamedImports(b)) for (const e of b.elements) declared.add(e.name.text);
    } else if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) bindingNames(d.name, declared);
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s) || ts.isModuleDeclaration(s)) && s.name && ts.isIdentifier(s.name)) {
      declared.add(s.name.text);
    }
  }
  const used = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) {
      const p = node.parent;
      const member = (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isQualifiedName(p) && p.right === node) || (ts.isPropertyAssignment(p) && p.name === node);
      if (!member) used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { declared, used };
}

// ---- value comments ----

type Literal = number | string | boolean | null | Literal[];

/** Parses a whole comment as a JSON-like literal, or returns undefined (then the comment is prose). */
function parseLiteral(source: string): { value: Literal } | undefined {
  const s = source.trim();
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const value = (): Literal => {
    ws();
    if (s[i] === "[") {
      i++;
      const items: Literal[] = [];
      ws();
      if (s[i] === "]") {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "]") {
          i++;
          return items;
        } else throw new Error("not a literal");
      }
    }
    if (s[i] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(s.slice(i));
      if (!m) throw new Error("not a literal");
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    const m = /^(-?Infinity|NaN|true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])/.exec(s.slice(i));
    if (!m) throw new Error("not a literal");
    i += m[0].length;
    const t = m[0];
    return t === "true" ? true : t === "false" ? false : t === "null" ? null : Number(t);
  };
  try {
    const v = value();
    ws();
    return i === s.length ? { value: v } : undefined;
  } catch {
    return undefined;
  }
}

/** The value a comment is compared with: tensors as nested arrays, typed arrays as arrays. */
function comparable(v: unknown): unknown {
  if (v !== null && typeof v === "object") {
    const t = v as { toArray?: unknown; shape?: unknown; dtype?: unknown };
    if (typeof t.toArray === "function" && Array.isArray(t.shape) && typeof t.dtype === "string") return (t as { toArray(): unknown }).toArray();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
    if (Array.isArray(v)) return v.map(comparable);
  }
  return v;
}

function matches(actual: unknown, expected: Literal): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, k) => matches(actual[k], e));
  if (typeof expected === "number") {
    if (typeof actual !== "number") return false;
    if (Number.isNaN(expected) || !Number.isFinite(expected)) return Object.is(actual, expected) || actual === expected;
    return Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected));
  }
  return actual === expected;
}

function show(v: unknown): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (typeof v === "bigint") return `${v}n`;
  // Other objects by their class and how Node prints them.
  if (v !== null && typeof v === "object") return `${v.constructor?.name ?? "object"} ${inspect(v)}`;
  return String(v);
}

/** A comment that is checked: the value the statement produces, or the error it throws. */
type ValueComment = { where: string; expected: Literal } | { where: string; throws: { name: string; message: string } };

/** `throws RangeError` or `throws RangeError: the message's beginning…` (a trailing `...` or `…` is dropped). */
function parseThrows(comment: string): { name: string; message: string } | undefined {
  const m = /^throws ([A-Z]\w*)(?::\s*(.*?))?\s*(?:\.\.\.|…)?$/.exec(comment.trim());
  return m ? { name: m[1]!, message: m[2] ?? "" } : undefined;
}

function containsAwait(node: ts.Node): boolean {
  if (ts.isAwaitExpression(node)) return true;
  if (ts.isFunctionLike(node)) return false;
  return ts.forEachChild(node, containsAwait) ?? false;
}

/**
 * The runnable form of a block: every statement with a value comment also passes its value to the checker
 * (`globalThis.__docExampleCheck(value, id)`), and every statement that says it throws runs inside
 * `globalThis.__docExampleThrows(() => statement, id)`, on the same line, so line numbers are kept.
 */
function instrument(example: Example, firstId: number): { code: string; comments: ValueComment[] } {
  const code = example.code;
  const sf = ts.createSourceFile("block.ts", code, ts.ScriptTarget.Latest, true);
  const edits: { at: number; end: number; text: string }[] = [];
  const comments: ValueComment[] = [];
  const visit = (node: ts.Node) => {
    const trailing = ts.isExpressionStatement(node) || ts.isVariableStatement(node) ? ts.getTrailingCommentRanges(code, node.end)?.[0] : undefined;
    if (trailing?.kind === ts.SyntaxKind.SingleLineCommentTrivia) {
      const text = code.slice(trailing.pos + 2, trailing.end);
      const literal = parseLiteral(text);
      const throws = parseThrows(text);
      const id = firstId + comments.length;
      const where = `${example.file}:${example.lines[sf.getLineAndCharacterOfPosition(trailing.pos).line]!}`;
      if (literal && ts.isExpressionStatement(node)) {
        edits.push({ at: node.expression.getStart(sf), end: node.expression.end, text: `globalThis.__docExampleCheck((${node.expression.getText(sf)}), ${id})` });
        comments.push({ where, expected: literal.value });
      } else if (literal && ts.isVariableStatement(node)) {
        const [d, ...rest] = node.declarationList.declarations;
        if (d && rest.length === 0 && ts.isIdentifier(d.name)) {
          edits.push({ at: node.end, end: node.end, text: ` globalThis.__docExampleCheck(${d.name.text}, ${id});` });
          comments.push({ where, expected: literal.value });
        }
      } else if (throws && ts.isExpressionStatement(node)) {
        const expression = node.expression.getText(sf);
        const call = containsAwait(node.expression)
          ? `await globalThis.__docExampleThrows(async () => (${expression}), ${id})`
          : `globalThis.__docExampleThrows(() => (${expression}), ${id})`;
        edits.push({ at: node.expression.getStart(sf), end: node.expression.end, text: call });
        comments.push({ where, throws });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let out = code;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  return { code: out, comments };
}

// ---- setup: every example a module in a temporary folder ----

interface Module extends Example {
  /** The module type-checked, and the module run: one import line, then the block's lines. */
  typed: string;
  runnable: string;
  comments: ValueComment[];
  firstId: number;
  dir: string;
}

let work: string;
let problems: string[];
let modules: Module[];
let fixtureFiles: string[];
let fixtures: Map<string, Exported[]>;
let library: Map<string, Exported[]>;
let exportsProgram: ts.Program;

const srcFiles = sourceFiles(path.join(root, "src")).map((f) => path.relative(root, f).split(path.sep).join("/"));
const isCovered = (file: string) => covered.some((c) => file === c || file.startsWith(`${c}/`));

function compilerOptions(legacy: boolean): ts.CompilerOptions {
  const config = ts.readConfigFile(path.join(root, "tsconfig.json"), (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  return {
    ...options,
    strict: true,
    noUnusedLocals: false,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    experimentalDecorators: legacy,
    types: ["node"],
    paths: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, [file]])),
  };
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "difftypes-doc-examples-"));
  writeFileSync(path.join(work, "package.json"), JSON.stringify({ type: "module", private: true }));
  fixtureFiles = readdirSync(fixturesDir).filter((f) => f.endsWith(".ts")).sort().map((f) => path.join(fixturesDir, f));
  exportsProgram = ts.createProgram([...Object.values(entries), ...fixtureFiles], compilerOptions(false));
  const all = exportsOf(exportsProgram, [...Object.values(entries), ...fixtureFiles]);
  library = new Map(Object.values(entries).map((f) => [f, all.get(f) ?? []]));
  fixtures = new Map(fixtureFiles.map((f) => [f, all.get(f) ?? []]));
  const packageNames = new Map<string, Exported>();
  for (const [file, names] of library) for (const e of names) if (!packageNames.has(e.name)) packageNames.set(e.name, { ...e, from: Object.keys(entries).find((k) => entries[k] === file)! });
  const fixtureNames = new Map<string, Exported>();
  problems = [];
  for (const names of fixtures.values()) {
    for (const e of names) {
      const rel = path.relative(root, e.from);
      if (fixtureNames.has(e.name)) problems.push(`fixture "${e.name}" is exported by both ${path.relative(root, fixtureNames.get(e.name)!.from)} and ${rel}: one name, one fixture`);
      if (packageNames.has(e.name)) problems.push(`fixture "${e.name}" in ${rel} has the name of an export of ${packageNames.get(e.name)!.from}: rename it`);
      fixtureNames.set(e.name, e);
    }
  }

  const examples: Example[] = [];
  for (const file of srcFiles.filter(isCovered)) {
    const found = collect(file);
    examples.push(...found.examples);
    problems.push(...found.problems);
  }
  let nextId = 0;
  modules = examples.map((example, n) => {
    const { declared, used } = namesOf(example.code);
    const wanted = (e: Exported) => used.has(e.name) && !declared.has(e.name);
    const specifiers = (names: Exported[]) => names.filter(wanted).map((e) => (e.typeOnly ? `type ${e.name}` : e.name)).join(", ");
    const importLine = (fixtureUrl: (file: string) => string) =>
      [
        ...Object.keys(entries).map((name) => [name, specifiers([...packageNames.values()].filter((e) => e.from === name))] as const),
        ...fixtureFiles.map((f) => [fixtureUrl(f), specifiers(fixtures.get(f) ?? [])] as const),
      ]
        .filter(([, s]) => s !== "")
        .map(([from, s]) => `import { ${s} } from ${JSON.stringify(from)};`)
        .join(" ");
    const base = path.join(work, `example${n}`);
    const typed = `${base}.ts`;
    const runnable = `${base}.run.ts`;
    // Type-checking sees the block as written; `export {}` keeps a block without imports a module.
    writeFileSync(typed, `${importLine((f) => f.replace(/\.ts$/, ".js"))}\n${example.code}\nexport {};\n`);
    const { code, comments } = instrument(example, nextId);
    const firstId = nextId;
    nextId += comments.length;
    // The run resolves the package to the sources, and loads each fixture file afresh (a query per example).
    const run = `${importLine((f) => `${pathToFileURL(f).href}?example=${n}`)}\n${code}\nexport {};\n`;
    writeFileSync(
      runnable,
      run.replace(/(from\s+|import\s*\(\s*)(["'])(difftypes(?:\/node)?)\2/g, (_m, lead: string, _q, name: string) => `${lead}${JSON.stringify(pathToFileURL(entries[name]!).href)}`),
    );
    const dir = path.join(work, `run${n}`);
    return { ...example, typed, runnable, comments, firstId, dir };
  });
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the checker itself: a wrong value comment fails, prose is not checked, a fenced block is found", () => {
  const example: Example = { where: "a.ts:1", file: "a.ts", code: "", lines: [10, 11, 12, 13, 14, 15], fragment: false };
  const code = 'const a = f(); // [1, 2.5, NaN]\ng(a); // 3\nh(); // about 3\nconst b = 1, c = 2; // 1\nk(); // "s"\nawait m(); // throws RangeError: m: no...\n';
  const { code: run, comments } = instrument({ ...example, code }, 7);
  expect(comments).toEqual([
    { where: "a.ts:10", expected: [1, 2.5, NaN] },
    { where: "a.ts:11", expected: 3 },
    { where: "a.ts:14", expected: "s" },
    { where: "a.ts:15", throws: { name: "RangeError", message: "m: no" } },
  ]);
  expect(run.split("\n")[1]).toBe("globalThis.__docExampleCheck((g(a)), 8); // 3");
  expect(run.split("\n")[5]).toBe("await globalThis.__docExampleThrows(async () => (await m()), 10); // throws RangeError: m: no...");
  expect(parseThrows("throws TypeError")).toEqual({ name: "TypeError", message: "" });
  expect(parseThrows("throws if x < 0")).toBeUndefined();
  expect(run.split("\n").length).toBe(code.split("\n").length);
  expect(parseLiteral(" [[1, -2e-3], [Infinity, -Infinity]] ")).toEqual({ value: [[1, -2e-3], [Infinity, -Infinity]] });
  for (const prose of ["[1, 2] (rounded)", "2 + 2 = 4", "{ a: 1 }", "ln 2", "'s'", "[1, 2"]) expect(parseLiteral(prose)).toBeUndefined();
  expect(matches(comparable(Float32Array.of(0.1, 2)), [0.1, 2])).toBe(true);
  expect(matches([0.1001], [0.1])).toBe(true);
  expect(matches([0.1002], [0.1])).toBe(false);
  expect(matches(1000.05, 1000)).toBe(true);
  expect(matches(1000.2, 1000)).toBe(false);
  expect(matches(NaN, NaN)).toBe(true);
  expect(matches(0, NaN)).toBe(false);
  expect(matches([1, 2, 3], [1, 2])).toBe(false);
  expect(matches("1", 1)).toBe(false);
  expect(matches(Infinity, Infinity)).toBe(true);
  expect(matches(-Infinity, Infinity)).toBe(false);
});

test("the collector: one fenced block per example, inline examples and second blocks refused", () => {
  const text = [
    "/** Adds. @param a a number. @example `add(1, 2)` is `3`. */",
    "export const a = 1;",
    "/**",
    " * Subtracts.",
    " * @example",
    " * ```ts",
    " * const d = 3;",
    " *   d; // 3",
    " * ```",
    " * @returns the difference.",
    " * @example Two blocks",
    " * ```ts",
    " * 1;",
    " * ```",
    " * ```ts",
    " * 2;",
    " * ```",
    " */",
    "export const b = `/** @example inline in a string */`;",
  ].join("\n");
  const { examples, problems } = collect("f.ts", text);
  expect(problems).toEqual(["f.ts:1: an inline example; write it as a fenced ```ts block", "f.ts:11: an example holds exactly one fenced ```ts block (found 2 block(s))"]);
  expect(examples).toEqual([{ where: "f.ts:5", file: "f.ts", code: "const d = 3;\n  d; // 3\n", lines: [7, 8], fragment: false }]);
});

test("fixtures are loaded afresh for every example", async () => {
  const file = pathToFileURL(fixtureFiles[0]!).href;
  const [a, b] = [(await import(`${file}?example=a`)) as object, (await import(`${file}?example=b`)) as object];
  expect(Object.keys(a).length).toBeGreaterThan(0);
  for (const name of Object.keys(a)) expect((a as Record<string, unknown>)[name]).not.toBe((b as Record<string, unknown>)[name]);
  // A fixture's classes are the ones the examples import (one copy of the library, so `instanceof` holds).
  const library = (await import(pathToFileURL(entries.difftypes!).href)) as Record<string, unknown>;
  for (const [name, value] of Object.entries(a)) {
    const type = value !== null && typeof value === "object" ? library[(value as object).constructor.name] : undefined;
    if (typeof type === "function") expect(value instanceof type, `fixture ${name}`).toBe(true);
  }
});

test("every example is one fenced ```ts block, and fixtures have one name each", () => {
  expect(modules.length).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});

test("the examples that are only fragments say so, and are the ones pinned here", () => {
  expect(modules.filter((m) => m.fragment).map((m) => m.where)).toEqual(pinnedFragments);
});

test("docs/examples.md shows every fixture file as written, and lists exactly the fixtures", () => {
  const page = readFileSync(path.join(root, "docs", "examples.md"), "utf8");
  const blocks = [...page.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const listed = new Set<string>();
  for (const block of blocks) {
    const sf = ts.createSourceFile("page.ts", block, ts.ScriptTarget.Latest, true);
    for (const s of sf.statements) {
      const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) continue;
      if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bindingNames(d.name, listed);
      else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) listed.add(s.name.text);
    }
  }
  const names = [...fixtures.values()].flat().filter((e) => !e.typeOnly).map((e) => e.name);
  expect([...listed].sort()).toEqual(names.sort());
  for (const file of fixtureFiles) {
    const shown = readFileSync(file, "utf8").split(JSON.stringify(fixtureLibraryImport)).join('"difftypes"');
    expect(blocks, `docs/examples.md shows ${path.relative(root, file)} as written`).toContain(shown);
  }
});

test("the reference is grouped by area: every export declared in a covered folder has a @category", () => {
  const checker = exportsProgram.getTypeChecker();
  const missing: string[] = [];
  for (const file of Object.values(entries)) {
    const module = checker.getSymbolAtLocation(exportsProgram.getSourceFile(file)!)!;
    for (const s of checker.getExportsOfModule(module)) {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      for (const d of target.declarations ?? []) {
        const sf = d.getSourceFile();
        const where = path.relative(root, sf.fileName).split(path.sep).join("/");
        if (!isCovered(where)) continue;
        // The implementation of an overloaded function is not in the reference: only its overloads are.
        if (ts.isFunctionDeclaration(d) && d.body !== undefined && (target.declarations ?? []).length > 1) continue;
        if (!ts.getJSDocTags(d).some((t) => t.tagName.text === "category")) {
          missing.push(`${where}:${sf.getLineAndCharacterOfPosition(d.getStart()).line + 1}: ${s.getName()}`);
        }
      }
    }
  }
  expect(missing).toEqual([]);
});

test("all examples type-check together in one strict program, in the project's decorator mode", ({ task }) => {
  const legacy = task.file.projectName === "legacy";
  expect(["standard", "legacy"]).toContain(task.file.projectName);
  const program = ts.createProgram(
    modules.filter((m) => !m.fragment).map((m) => m.typed),
    compilerOptions(legacy),
    undefined,
    exportsProgram,
  );
  const byModule = new Map(modules.map((m) => [m.typed, m]));
  // The examples' own diagnostics: the sources are type-checked on their own by `npm run typecheck`, and
  // checking only what the examples reach keeps this test fast.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...modules.filter((m) => !m.fragment).flatMap((m) => {
      const sf = program.getSourceFile(m.typed)!;
      return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    }),
  ];
  const errors = diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file) return message;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const m = byModule.get(path.normalize(d.file.fileName));
    // Line 0 of a module is its import line; line k is line k-1 of the block.
    const where = m ? `${m.file}:${m.lines[line - 1] ?? m.lines[0]}:${character + 1}` : `${d.file.fileName}:${line + 1}`;
    return `${where}: ${message}`;
  });
  expect(errors).toEqual([]);
}, 120_000);

test("every example runs, and its value comments hold", async () => {
  const failures: string[] = [];
  const comments = modules.flatMap((m) => m.comments);
  const reached = new Set<number>();
  const g = globalThis as {
    __docExampleCheck?: (actual: unknown, id: number) => void;
    __docExampleThrows?: (f: () => unknown, id: number) => Promise<void> | void;
  };
  g.__docExampleCheck = (actual, id) => {
    reached.add(id);
    const c = comments[id]!;
    const value = comparable(actual);
    if ("expected" in c && !matches(value, c.expected)) failures.push(`${c.where}: the comment says ${show(c.expected)}, the value is ${show(value)}`);
  };
  const thrown = (id: number, error: unknown, threw: boolean) => {
    reached.add(id);
    const c = comments[id]!;
    if (!("throws" in c)) return;
    const { name, message } = c.throws;
    if (!threw) failures.push(`${c.where}: the comment says it throws ${name}, it returned`);
    else if (!(error instanceof Error) || error.name !== name || !error.message.startsWith(message)) {
      failures.push(`${c.where}: the comment says it throws ${name}${message ? `: ${message}…` : ""}, it threw ${error instanceof Error ? `${error.name}: ${error.message}` : show(error)}`);
    }
  };
  g.__docExampleThrows = (f, id) => {
    let result: unknown;
    try {
      result = f();
    } catch (e) {
      return thrown(id, e, true);
    }
    if (result instanceof Promise) return result.then(() => thrown(id, undefined, false), (e: unknown) => thrown(id, e, true));
    return thrown(id, undefined, false);
  };
  const cwd = process.cwd();
  const quiet = ["log", "info", "warn", "error", "debug", "table", "dir"] as const;
  for (const m of modules) {
    if (m.fragment) continue;
    mkdirSync(m.dir);
    const silenced = quiet.map((k) => vi.spyOn(console, k).mockImplementation(() => {}));
    try {
      process.chdir(m.dir);
      await import(pathToFileURL(m.runnable).href);
    } catch (e) {
      // The throwing line, from the stack, in the source file's numbering.
      const at = e instanceof Error ? new RegExp(`${path.basename(m.runnable).replace(/\./g, "\\.")}:(\\d+)`).exec(e.stack ?? "") : null;
      const where = at ? `${m.file}:${m.lines[Number(at[1]) - 2] ?? m.lines[0]}` : m.where;
      failures.push(`${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    } finally {
      process.chdir(cwd);
      for (const s of silenced) s.mockRestore();
    }
  }
  for (const m of modules) {
    if (m.fragment) continue;
    m.comments.forEach((c, k) => {
      if (!reached.has(m.firstId + k)) failures.push(`${c.where}: a value comment that the example never reaches`);
    });
  }
  delete g.__docExampleCheck;
  delete g.__docExampleThrows;
  expect(failures).toEqual([]);
}, 120_000);
