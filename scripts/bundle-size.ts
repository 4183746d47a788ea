/**
 * Bundles the package root for browsers with esbuild, the way an application would, and measures it:
 * any import of a Node module is reported (with the file that imports it), and the sizes are given
 * minified and gzipped, for the full library and for a small Dense + Adam program (what tree shaking
 * leaves). The test suite holds both to the budgets below; `npm run size` prints the table in the README.
 */
import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const entry = path.join(root, "src", "index.ts");

/** Size budgets in bytes (gzipped, which is what a page downloads); the README reports the measured sizes. */
export const BUDGETS = { fullLibrary: 165_000, denseAdam: 78_000 } as const;

/** A small training program: what tree shaking keeps of the library for a Dense + Adam model. */
export const DENSE_ADAM_PROGRAM = `
import { Dense, Adam, tensor, valueWithGradient, meanSquaredError } from ${JSON.stringify(entry)};
const model = new Dense({ inputSize: 2, outputSize: 1, seed: 0 });
const optimizer = new Adam(model, { learningRate: 0.1 });
const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[0], [1], [1], [2]]);
for (let step = 0; step < 200; step++) {
  const { gradient } = valueWithGradient(model, (m) => meanSquaredError(m.callAsFunction(x), y));
  optimizer.update(model, gradient);
}
console.log(String(model.callAsFunction(x)));
`;

/** One Node import found in a browser bundle. */
export interface NodeImport {
  readonly importer: string;
  readonly path: string;
}

/** What bundling one entry produced. */
export interface BrowserBundle {
  readonly code: string;
  readonly minifiedBytes: number;
  readonly gzippedBytes: number;
  /** Every import of a Node built-in (`node:fs`, `fs`, `async_hooks`, ...), which a browser cannot load. */
  readonly nodeImports: readonly NodeImport[];
  /** The files that went into the bundle, relative to the repository. */
  readonly inputs: readonly string[];
}

/** Marks the plugin's own look-ups, so that they are not intercepted again. */
const ownLookup = Symbol("own lookup");

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Bundles `source` (a file, or module text resolved from the repository root) for the browser, minified.
 * Node built-ins are recorded rather than failing the build, so one run lists all of them.
 */
export async function bundleForBrowser(source: { file: string } | { contents: string }): Promise<BrowserBundle> {
  const nodeImports: NodeImport[] = [];
  const result = await esbuild.build({
    ...("file" in source ? { entryPoints: [source.file] } : { stdin: { contents: source.contents, resolveDir: root, loader: "ts", sourcefile: "program.ts" } }),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [
      {
        name: "record-node-imports",
        setup(build) {
          build.onResolve({ filter: /.*/ }, async (args) => {
            if (args.pluginData === ownLookup) return undefined;
            if (!builtins.has(args.path) && !args.path.startsWith("node:")) return undefined;
            // A dependency may map a built-in away for browsers (`"browser": { "fs": false }` in its
            // package.json, as protobufjs does for an optional, guarded `require("fs")`): esbuild then resolves
            // it to an empty module, which is what every browser bundler does with that field.
            const resolved = await build.resolve(args.path, {
              kind: args.kind,
              importer: args.importer,
              resolveDir: args.resolveDir,
              pluginData: ownLookup,
            });
            if (resolved.errors.length === 0 && resolved.namespace === "") return undefined;
            nodeImports.push({ importer: path.relative(root, args.importer) || "(entry)", path: args.path });
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  const bytes = result.outputFiles[0]!.contents;
  return {
    code,
    minifiedBytes: bytes.byteLength,
    gzippedBytes: gzipSync(bytes, { level: 9 }).byteLength,
    nodeImports,
    // A module a dependency maps away for browsers appears as "(disabled):name" and carries no code.
    inputs: Object.keys(result.metafile.inputs).filter((f) => !f.startsWith("(disabled):")),
  };
}

/** The package root, bundled whole. */
export function bundleLibrary(): Promise<BrowserBundle> {
  return bundleForBrowser({ file: entry });
}

/** {@link DENSE_ADAM_PROGRAM}, bundled. */
export function bundleDenseAdam(): Promise<BrowserBundle> {
  return bundleForBrowser({ contents: DENSE_ADAM_PROGRAM });
}

const kB = (n: number): string => `${(n / 1000).toFixed(0)} kB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows: [string, BrowserBundle, number][] = [
    ["the whole package root", await bundleLibrary(), BUDGETS.fullLibrary],
    ["a Dense + Adam training program", await bundleDenseAdam(), BUDGETS.denseAdam],
  ];
  console.log("| bundle (esbuild, browser, ES2022) | minified | minified + gzipped | budget (gzipped) |");
  console.log("|---|---|---|---|");
  for (const [name, b, budget] of rows) console.log(`| ${name} | ${kB(b.minifiedBytes)} | ${kB(b.gzippedBytes)} | ${kB(budget)} |`);
  const nodeImports = rows.flatMap(([, b]) => b.nodeImports);
  if (nodeImports.length > 0) {
    console.error(`Node imports in the browser bundle: ${nodeImports.map((i) => `${i.importer} → ${i.path}`).join(", ")}`);
    process.exitCode = 1;
  }
}
