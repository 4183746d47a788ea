// @ts-check
/**
 * A TypeDoc plugin for the guide pages of the site (typedoc.json's `projectDocuments`, the pages in docs/):
 * each page is titled by its first heading rather than its file name, and the pages are listed in the
 * navigation in the order the landing page (typedoc.json's `readme`, docs/README.md) links to them, so that
 * page decides the reading order. Pages it does not link to come last, in file-name order.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Converter } from "typedoc";

/**
 * The `.md` files a Markdown page links to, by base name, in the order of their first link.
 * @param {string} markdown
 * @returns {string[]}
 */
export function linkedPages(markdown) {
  const names = [...markdown.matchAll(/\]\(([^)#\s]+)\.md(?:#[^)]*)?\)/g)].map((m) => path.basename(m[1] ?? ""));
  return [...new Set(names)];
}

/**
 * A page's title: the text of its first `# ` heading, without Markdown code marks.
 * @param {string} text
 * @returns {string | undefined}
 */
export function pageTitle(text) {
  const heading = /^# +(.+?)\s*$/m.exec(text);
  return heading?.[1]?.replace(/`/g, "");
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  /** @type {Map<import("typedoc").DocumentReflection, string>} Each document's file base name, taken before the title replaces it. */
  const fileNames = new Map();

  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, doc) => {
    fileNames.set(doc, doc.name);
    const title = pageTitle(doc.content.map((part) => part.text).join(""));
    if (title !== undefined) doc.name = title;
  });

  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    const documents = project.documents;
    if (documents === undefined || documents.length < 2) return;
    const readme = String(app.options.getValue("readme"));
    const order = readme === "none" ? [] : linkedPages(readFileSync(readme, "utf8"));
    const rank = (/** @type {import("typedoc").DocumentReflection} */ doc) => {
      const i = order.indexOf(fileNames.get(doc) ?? doc.name);
      return i < 0 ? order.length : i;
    };
    documents.sort((a, b) => rank(a) - rank(b)); // stable: unlinked pages keep their file order
    const others = project.childrenIncludingDocuments?.filter((c) => !c.isDocument()) ?? [];
    project.childrenIncludingDocuments = [...documents, ...others];
  });
}
