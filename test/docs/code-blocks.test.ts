/**
 * The docs as a contract: every ```ts block of README.md and docs/*.md is type-checked (all blocks in one
 * strict TypeScript program, on the repository's compiler settings) and run, each with its working
 * directory in a fresh temporary folder. Blocks import from "difftypes" and "difftypes/node", mapped to
 * the sources. A block that is only a fragment says so on its first line (`// fragment: <why>`) and is
 * skipped; the list of fragments is pinned below, so a new one is a visible change.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const entries: Record<string, string> = {
  difftypes: path.join(root, "src", "index.ts"),
  "difftypes/node": path.join(root, "src", "node.ts"),
};

interface Block {
  /** `README.md:30`: the file, and the line of the opening fence. */
  where: string;
  code: string;
  fragment: boolean;
  /** The module written for it, in the temporary folder. */
  module: string;
}

const markdownFiles = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];

function extractBlocks(file: string): Omit<Block, "module">[] {
  const lines = readFileSync(path.join(root, file), "utf8").split("\n");
  const blocks: Omit<Block, "module">[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`${file}:${start + 1}: unclosed \`\`\`ts block`);
    blocks.push({ where: `${file}:${start + 1}`, code: body.join("\n") + "\n", fragment: /^\/\/ fragment: \S/.test(body[0] ?? "") });
  }
  return blocks;
}

let work: string;
let blocks: Block[];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "difftypes-docs-"));
  writeFileSync(path.join(work, "package.json"), JSON.stringify({ type: "module", private: true }));
  blocks = markdownFiles.flatMap(extractBlocks).map((b, n) => {
    const module = path.join(work, `block${n}.ts`);
    // `export {}` keeps a block without imports a module (top-level await, no shared globals).
    writeFileSync(module, `${b.code}\nexport {};\n`);
    return { ...b, module };
  });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("every block that is only a fragment says so, and the list of fragments is the one pinned here", () => {
  expect(blocks.length).toBeGreaterThan(5);
  expect(blocks.filter((b) => b.fragment).map((b) => b.where)).toEqual([]);
});

// The type-check loads the whole library once (about 30 s on a loaded 2-core machine); the runs share its modules.
test("all blocks type-check together in one strict program, in the project's decorator mode", ({ task }) => {
  const legacy = task.file.projectName === "legacy";
  expect(["standard", "legacy"]).toContain(task.file.projectName);
  const config = ts.readConfigFile(path.join(root, "tsconfig.json"), (f) => ts.sys.readFile(f));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const program = ts.createProgram(
    blocks.filter((b) => !b.fragment).map((b) => b.module),
    {
      ...options,
      strict: true,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      experimentalDecorators: legacy,
      types: ["node"],
      paths: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, [file]])),
    },
  );
  const byModule = new Map(blocks.map((b) => [b.module, b]));
  const errors = ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file) return message;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
    const block = byModule.get(path.normalize(d.file.fileName));
    // Line numbers in the Markdown file: the fence's line plus the line inside the block.
    const where = block ? `${block.where.replace(/:\d+$/, "")}:${Number(block.where.split(":")[1]) + line + 1}:${character + 1}` : `${d.file.fileName}:${line + 1}`;
    return `${where}: ${message}`;
  });
  expect(errors).toEqual([]);
}, 180_000);

test("every block runs, with its working directory in a fresh temporary folder", async () => {
  const failures: string[] = [];
  const cwd = process.cwd();
  for (const [n, block] of blocks.entries()) {
    if (block.fragment) continue;
    const dir = path.join(work, `run${n}`);
    mkdirSync(dir);
    // The runner resolves the package's names to the sources, as the type-check's `paths` do.
    const runnable = block.module.replace(/\.ts$/, ".run.ts");
    writeFileSync(
      runnable,
      readFileSync(block.module, "utf8").replace(/(from\s+|import\s*\(\s*)(["'])(difftypes(?:\/node)?)\2/g, (_m, lead: string, _q, name: string) => `${lead}${JSON.stringify(pathToFileURL(entries[name]!).href)}`),
    );
    const log = console.log;
    console.log = () => {};
    try {
      process.chdir(dir);
      await import(pathToFileURL(runnable).href);
    } catch (e) {
      // The throwing line of the block, from the stack, in the Markdown file's numbering.
      const at = e instanceof Error ? new RegExp(`${path.basename(runnable).replace(/\./g, "\\.")}:(\\d+)`).exec(e.stack ?? "") : null;
      const [file, fence] = block.where.split(":");
      const where = at ? `${file}:${Number(fence) + Number(at[1])}` : block.where;
      failures.push(`${where}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    } finally {
      process.chdir(cwd);
      console.log = log;
    }
  }
  expect(failures).toEqual([]);
}, 180_000);
