/**
 * Test helpers for the browser tests: find the system's Chromium (Debian's `chromium`, driven by
 * playwright-core; nothing downloads a browser), launch it headless and off the network, and collect
 * everything a page reports as going wrong.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";

/** The Chromium to drive: $CHROMIUM_PATH, else the first of Debian's and other usual names on the PATH. */
export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  for (const name of ["chromium", "chromium-browser", "google-chrome-stable", "google-chrome"]) {
    try {
      return execFileSync("which", [name], { encoding: "utf8" }).trim();
    } catch {
      /* try the next name */
    }
  }
  throw new Error(
    "The browser test needs Chromium and found none. Install Debian's package: " +
      "`apt-get update && apt-get install -y chromium` (.ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome executable.",
  );
}

/** Headless Chromium, found by `findChromium`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    // The flags keep Chromium off the network (this machine has none) and work as root.
    args: [
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Everything the page reports as going wrong: console errors, uncaught exceptions, failed requests. */
export function watchForErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** A test page's script: `entry` (a URL, e.g. `new URL("./probe.ts", import.meta.url)`) bundled by esbuild for the browser. */
export async function bundleForBrowser(entry: URL, format: "iife" | "esm" = "iife"): Promise<string> {
  const built = await esbuild.build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format,
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return built.outputFiles[0]!.text;
}
