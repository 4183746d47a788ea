/**
 * The guide as a site: every page in docs/ is reachable from the landing page (docs/README.md, which is also
 * the site's index and sets the navigation order through the plugin scripts/typedoc-guide.mjs), every page
 * has a title, and typedoc.json builds the guide and the reference the way the README says.
 */
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const docs = path.join(root, "docs");
const pages = readdirSync(docs).filter((f) => f.endsWith(".md") && f !== "README.md").sort();
const landing = readFileSync(path.join(docs, "README.md"), "utf8");

interface GuidePlugin {
  linkedPages(markdown: string): string[];
  pageTitle(text: string): string | undefined;
}
const pluginUrl = new URL("../../scripts/typedoc-guide.mjs", import.meta.url).href;
const plugin = (await import(pluginUrl)) as GuidePlugin;

test("the plugin reads links in order, once each, anchors and folders aside, and titles without code marks", () => {
  expect(plugin.linkedPages("[a](one.md), [b](two.md#x), [c](one.md), [d](../bench/README.md), [e](https://x.org/y.md) [f](img.png)"))
    .toEqual(["one", "two", "README", "y"]);
  expect(plugin.pageTitle("intro\n# The `compile` function  \n## Later")).toBe("The compile function");
  expect(plugin.pageTitle("no heading here")).toBeUndefined();
});

test("every guide page is linked from the landing page, and every link there names a page that exists", () => {
  const linked = plugin.linkedPages(landing);
  const names = pages.map((p) => p.replace(/\.md$/, ""));
  expect(names.filter((n) => !linked.includes(n))).toEqual([]);
  expect(linked.filter((n) => !names.includes(n))).toEqual([]);
});

test("every page has one title, its first heading, and no two pages share one", () => {
  const titles = pages.map((p) => plugin.pageTitle(readFileSync(path.join(docs, p), "utf8")));
  expect(titles.filter((t) => t === undefined || t.length === 0)).toEqual([]);
  expect(new Set(titles).size).toBe(titles.length);
  for (const p of pages) expect(readFileSync(path.join(docs, p), "utf8").split("\n")[0], p).toMatch(/^# \S/);
});

test("typedoc.json: the guide is the landing page, its pages are documents, the reference is grouped by area", () => {
  const config = JSON.parse(readFileSync(path.join(root, "typedoc.json"), "utf8")) as Record<string, unknown>;
  expect(config.readme).toBe("docs/README.md");
  expect(config.projectDocuments).toEqual(["docs"]);
  expect(config.exclude).toEqual(expect.arrayContaining(["docs/README.md", "docs/api/**"]));
  expect(config.plugin).toEqual(["./scripts/typedoc-guide.mjs"]);
  expect(config.treatWarningsAsErrors).toBe(true);
  expect(config.categorizeByGroup).toBe(false);
  expect(config.navigation).toMatchObject({ includeCategories: true, includeGroups: false });
  expect(config.categoryOrder).toEqual([
    "Tensors", "Operations", "Automatic differentiation", "Differentiable types", "Key paths",
    "Optimizers", "Layers", "Checkpoints", "Staged execution", "ONNX", "*",
  ]);
});
