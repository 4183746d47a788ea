/**
 * The npm package as a user receives it: the tarball's contents (`npm pack`), the links of
 * every shipped Markdown file, and a fresh project that installs the packed tarball and uses it three
 * ways: bundled for the browser by esbuild, imported from Node with checkpoint files, and `require`d. The
 * README's and the getting-started guide's tsconfigs and programs are compiled and run there as written.
 * Needs `dist/` (npm test builds it first).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  name: string;
  version: string;
  license: string;
  engines: { node: string };
  keywords: string[];
  exports: Record<string, string | Record<string, string>>;
  types: string;
  sideEffects: string[];
};

/** The packed tarball's file list. */
let files: string[];
let work: string;
/** A fresh project with the packed tarball installed. */
let app: string;

beforeAll(() => {
  if (!existsSync(path.join(root, "dist", "index.js")) || !existsSync(path.join(root, "dist", "node.js"))) {
    throw new Error("dist/ is missing or incomplete: run `npm run build` first (npm test does)");
  }
  work = mkdtempSync(path.join(tmpdir(), "difftypes-consumer-"));
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: root, encoding: "utf8" });
  const [packed] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  files = packed!.files.map((f) => f.path);
  app = path.join(work, "app");
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--silent", path.join(work, packed!.filename)], { cwd: app, encoding: "utf8" });
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball holds the library, its types and docs, and no tests or scratch files", () => {
  for (const f of ["package.json", "README.md", "LICENSE", "docs/README.md", "dist/index.js", "dist/index.d.ts", "dist/node.js", "dist/node.d.ts"]) {
    expect(files, f).toContain(f);
  }
  const unwanted = files.filter((f) =>
    /^(test|type-tests|examples|scripts|assembly|\.tmp|\.ci|test-output|node_modules|docs\/api)\/|\.test\.|\.test-d\.|\.bench\.|tsbuildinfo|^bench\/(?!README\.md$)|^\./.test(f),
  );
  expect(unwanted).toEqual([]);
  // Source maps point at ../src: every compiled module ships its source.
  const missingSources = files.filter((f) => /^dist\/.*\.js$/.test(f)).map((f) => f.replace(/^dist\//, "src/").replace(/\.js$/, ".ts")).filter((f) => !files.includes(f));
  expect(missingSources).toEqual([]);
});

test("package.json: every export target ships; license, engines and keywords are what works", () => {
  const targets = [pkg.types, ...Object.values(pkg.exports).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v)))];
  for (const t of targets) expect(files, t).toContain(t.replace(/^\.\//, ""));
  expect(Object.keys(pkg.exports)).toEqual([".", "./node", "./package.json"]);
  for (const s of pkg.sideEffects.filter((p) => p.startsWith("./dist/"))) expect(files).toContain(s.replace(/^\.\//, ""));
  expect(pkg.license).toBe("Apache-2.0");
  expect(readFileSync(path.join(root, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
  // require() of an ES module works without a flag from Node 20.19 on.
  expect(pkg.engines.node).toBe(">=20.19");
  expect(pkg.keywords.length).toBeGreaterThan(3);
});

/** Relative link targets of a Markdown text, outside code. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/i.test(href) && !href.startsWith("#"))
    .map((href) => href.split("#")[0]!);
}

test("every relative link in a shipped Markdown file points at a shipped file", () => {
  const broken: string[] = [];
  for (const md of files.filter((f) => f.endsWith(".md"))) {
    for (const href of relativeLinks(readFileSync(path.join(root, md), "utf8"))) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(md), href)).replace(/\/$/, "");
      if (!files.includes(target) && !files.some((f) => f.startsWith(`${target}/`))) broken.push(`${md} → ${href}`);
    }
  }
  expect(broken).toEqual([]);
  expect(relativeLinks(readFileSync(path.join(root, "README.md"), "utf8"))).toContain("docs/README.md");
});

test("a fresh project installs the tarball: it bundles for browsers, runs in Node with checkpoint files, and require() works", () => {
  // The exact command of a browser app: esbuild --bundle --platform=browser on the package root.
  writeFileSync(
    path.join(app, "app.js"),
    `import { Dense, Adam, Dropout, tensor, withLearningPhase, serializeCheckpoint, deserializeCheckpoint } from "difftypes";
const model = new Dense({ inputSize: 2, outputSize: 1, seed: 0 });
new Adam(model);
withLearningPhase("training", () => new Dropout({ probability: 0.5 }).callAsFunction(tensor([1, 2])));
deserializeCheckpoint(serializeCheckpoint(model), model);
`,
  );
  const built = esbuild.buildSync({ entryPoints: [path.join(app, "app.js")], bundle: true, platform: "browser", write: false, logLevel: "silent", absWorkingDir: app });
  expect(built.errors).toEqual([]);

  // Node: the root and the Node-only entry, checkpoint files written and read back.
  writeFileSync(
    path.join(app, "node-app.mjs"),
    `import { Dense, tensor } from "difftypes";
import { saveCheckpoint, loadCheckpoint } from "difftypes/node";
const a = new Dense({ inputSize: 2, outputSize: 1, seed: 0 });
const b = new Dense({ inputSize: 2, outputSize: 1, seed: 1 });
await saveCheckpoint("dense.safetensors", a, { metadata: { note: "hi" } });
const { metadata } = await loadCheckpoint("dense.safetensors", b);
const x = tensor([[1, 2]]);
console.log(JSON.stringify({ metadata, same: a.callAsFunction(x).item() === b.callAsFunction(x).item() }));
`,
  );
  const fromNode = execFileSync(process.execPath, ["node-app.mjs"], { cwd: app, encoding: "utf8" });
  expect(JSON.parse(fromNode)).toEqual({ metadata: { note: "hi" }, same: true });

  // CommonJS: require() of the ES module package (Node 20.19+), and the Node entry is not in the root.
  writeFileSync(
    path.join(app, "cjs-app.cjs"),
    `const dt = require("difftypes");
console.log(JSON.stringify({ sum: dt.tensor([1, 2]).sum().item(), hasSave: "saveCheckpoint" in dt, node: typeof require("difftypes/node").saveCheckpoint }));
`,
  );
  const fromCjs = execFileSync(process.execPath, ["cjs-app.cjs"], { cwd: app, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  expect(JSON.parse(fromCjs)).toEqual({ sum: 3, hasSave: false, node: "function" });
}, 120_000);

/** The fenced blocks of one section of a Markdown file of the repository, by language. */
function sectionBlocks(file: string, section: string, lang: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const start = text.indexOf(`\n## ${section}\n`);
  expect(start, `${file} section '${section}'`).toBeGreaterThan(0);
  const end = text.indexOf("\n## ", start + 1);
  const body = text.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
}

/** The fenced blocks of one README section, by language. */
function readmeBlocks(section: string, lang: string): string[] {
  return sectionBlocks("README.md", section, lang);
}

test.each([
  ["standard (TC39) decorators", {}],
  ["legacy decorators", { experimentalDecorators: true }],
])("the README's 'use it in your project' compiles with its tsconfig and runs, %s", (_mode, extra) => {
  // A folder of the fresh project (whose package.json says "type": "module"), with its own tsconfig.
  const dir = mkdtempSync(path.join(app, "ts-"));
  const [tsconfigText] = readmeBlocks("Use it in your project", "json");
  const [program] = readmeBlocks("Use it in your project", "ts");
  const tsconfig = JSON.parse(tsconfigText!) as { compilerOptions: Record<string, unknown> };
  expect(tsconfig.compilerOptions.target).toBe("ES2022");
  Object.assign(tsconfig.compilerOptions, extra, { outDir: "out", skipLibCheck: false });
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ ...tsconfig, include: ["main.ts"] }));
  writeFileSync(path.join(dir, "main.ts"), program!);
  // The project's own TypeScript, on the consumer's tsconfig: the package's declarations must check too.
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: dir, encoding: "utf8" });
  const printed = execFileSync(process.execPath, ["out/main.js"], { cwd: dir, encoding: "utf8" });
  expect(printed).toMatch(/^Tensor\(\[5,1\] float32\)/);
  const values = [...printed.matchAll(/-?\d+\.\d+(?:e[+-]?\d+)?/g)].map((m) => Number(m[0]));
  expect(values).toHaveLength(5);
  values.forEach((v, i) => expect(Math.abs(v - [1, 0.25, 0, 0.25, 1][i]!)).toBeLessThan(0.1));
  expect(existsSync(path.join(dir, "net.safetensors"))).toBe(true);
}, 120_000);


/**
 * The guide "Getting started in your own project": its two tsconfigs (standard and legacy decorators) and
 * its training program, in a folder of the fresh project, exactly as written there.
 */
const guide = "docs/getting-started.md";
const guideSettings = "2. Compiler settings";
const guideProgram = "4. A training run with checkpoints, and resuming from one";

/** A folder of the fresh project holding the guide's program and the given tsconfig. */
function guideProject(tsconfig: object): string {
  const dir = mkdtempSync(path.join(app, "guide-"));
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  writeFileSync(path.join(dir, "main.ts"), sectionBlocks(guide, guideProgram, "ts")[0]!);
  return dir;
}

/** Each line the guide's program prints must begin the comment of its `console.log` line in the guide. */
function expectGuideOutput(printed: string): void {
  const comments = sectionBlocks(guide, guideProgram, "ts")[0]!
    .split("\n")
    .filter((line) => /^console\.log\(.*\/\/ /.test(line))
    .map((line) => line.slice(line.lastIndexOf("// ") + 3));
  const lines = printed.trimEnd().split("\n");
  expect(lines).toHaveLength(comments.length);
  lines.forEach((line, i) => expect(comments[i]!.startsWith(line), `printed '${line}', the guide says '${comments[i]}'`).toBe(true));
}

const tsc = (dir: string): string =>
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: dir, encoding: "utf8" });

test("the getting-started guide gives one tsconfig per decorator mode, both with target ES2022", () => {
  const configs = sectionBlocks(guide, guideSettings, "json").map((t) => JSON.parse(t) as { compilerOptions: Record<string, unknown> });
  expect(configs).toHaveLength(2);
  expect(configs.map((c) => c.compilerOptions.experimentalDecorators)).toEqual([undefined, true]);
  for (const c of configs) expect(c.compilerOptions.target).toBe("ES2022");
});

test.each([
  ["standard (TC39) decorators", 0],
  ["legacy decorators", 1],
])("the getting-started guide's program, with its tsconfig for %s: tsc then node, tsx, and an esbuild bundle", (_mode, which) => {
  const tsconfig = JSON.parse(sectionBlocks(guide, guideSettings, "json")[which]!) as object;
  const dir = guideProject(tsconfig);
  // tsc with the tsconfig as written (the package's declarations are checked too: no skipLibCheck), then node.
  tsc(dir);
  expectGuideOutput(execFileSync(process.execPath, ["out/main.js"], { cwd: dir, encoding: "utf8" }));
  expect(existsSync(path.join(dir, "classifier.safetensors"))).toBe(true);
  // tsx, which reads the decorator mode from the same tsconfig.
  rmSync(path.join(dir, "classifier.safetensors"));
  expectGuideOutput(execFileSync(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "main.ts"], { cwd: dir, encoding: "utf8" }));
  // The guide's esbuild command: --bundle --platform=node --format=esm --target=es2022.
  const bundled = esbuild.buildSync({
    entryPoints: [path.join(dir, "main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "es2022",
    outfile: path.join(dir, "bundle", "main.mjs"),
    logLevel: "silent",
    absWorkingDir: dir,
  });
  expect(bundled.errors).toEqual([]);
  expectGuideOutput(execFileSync(process.execPath, ["bundle/main.mjs"], { cwd: dir, encoding: "utf8" }));
}, 180_000);

test("as the guide says, without target ES2022 tsc and esbuild leave standard decorators in their output, which Node cannot parse; legacy ones run", () => {
  const { compilerOptions } = JSON.parse(sectionBlocks(guide, guideSettings, "json")[0]!) as { compilerOptions: Record<string, unknown> };
  delete compilerOptions.target; // TypeScript's default with module NodeNext: ESNext
  const dir = guideProject({ compilerOptions });
  tsc(dir);
  expect(readFileSync(path.join(dir, "out", "main.js"), "utf8")).toContain("@differentiable");
  let stderr = "";
  try {
    execFileSync(process.execPath, ["out/main.js"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    stderr = String((e as { stderr?: unknown }).stderr);
  }
  expect(stderr).toContain("SyntaxError: Invalid or unexpected token");

  // esbuild targets esnext unless told otherwise: standard decorators stay in its bundle too.
  const untargeted = esbuild.buildSync({ entryPoints: [path.join(dir, "main.ts")], bundle: true, platform: "node", format: "esm", write: false, logLevel: "silent", absWorkingDir: dir });
  expect(untargeted.outputFiles[0]!.text).toMatch(/^\s*@differentiable /m);

  // Legacy decorators are rewritten whatever the target: the legacy tsconfig runs without it too.
  const legacy = JSON.parse(sectionBlocks(guide, guideSettings, "json")[1]!) as { compilerOptions: Record<string, unknown> };
  delete legacy.compilerOptions.target;
  const legacyDir = guideProject(legacy);
  tsc(legacyDir);
  expectGuideOutput(execFileSync(process.execPath, ["out/main.js"], { cwd: legacyDir, encoding: "utf8" }));
}, 120_000);
