import { defineConfig } from "vitest/config";
import type { Plugin } from "vite";
import { transform } from "esbuild";

// Vitest 4 runs on Vite 8, whose Oxc transform lowers only legacy decorators. TC39 decorators (the
// standard ones, which Node 20 cannot parse) go through esbuild instead, with explicit decorator options.
function esbuildTs(compilerOptions: Record<string, unknown>): Plugin {
  return {
    name: "esbuild-ts",
    enforce: "pre",
    async transform(code, id) {
      const file = id.split("?")[0] ?? id;
      if (!/\.[cm]?ts$/.test(file) || file.includes("/node_modules/")) return null;
      const r = await transform(code, {
        loader: "ts",
        format: "esm",
        target: "es2022",
        sourcemap: true,
        sourcefile: file,
        tsconfigRaw: { compilerOptions },
      });
      return { code: r.code, map: r.map };
    },
  };
}

const include = ["test/**/*.test.ts"];
// Packaging, bundling and the real browser do not depend on the decorator mode: they run once.
const platform = ["test/platform/**/*.test.ts"];
const setupFiles = ["test/setup.ts"];
const common = { useDefineForClassFields: true, verbatimModuleSyntax: true };

// The whole suite runs twice: once with TC39 decorators, once with legacy `experimentalDecorators`.
export default defineConfig({
  test: {
    projects: [
      {
        oxc: false,
        plugins: [esbuildTs({ ...common, experimentalDecorators: false })],
        test: { name: "standard", include, exclude: platform, setupFiles, testTimeout: 60_000 },
      },
      {
        oxc: false,
        plugins: [esbuildTs({ ...common, experimentalDecorators: true })],
        test: { name: "legacy", include, exclude: platform, setupFiles, testTimeout: 60_000 },
      },
      {
        oxc: false,
        plugins: [esbuildTs({ ...common, experimentalDecorators: false })],
        test: { name: "platform", include: platform, setupFiles, testTimeout: 240_000 },
      },
    ],
  },
});
