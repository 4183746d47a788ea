/**
 * Kernels on two threads in a browser: a dedicated worker of a cross-origin isolated page (COOP/COEP
 * headers, so `SharedArrayBuffer` exists) runs the kernels with a nested helper worker, in Debian's Chromium.
 * The page's main thread, which may not block, runs everything on itself.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { bundleForBrowser, launchChromium, watchForErrors } from "./chromium.js";

let browser: Browser;
let server: Server;
let origin = "";

beforeAll(async () => {
  const worker = await bundleForBrowser(new URL("./threads-worker.ts", import.meta.url));
  const mainThread = await bundleForBrowser(new URL("./threads-main.ts", import.meta.url));
  const page = `<!doctype html><title>threads</title><link rel="icon" href="data:,"><script src="/main.js"></script><script>
const w = new Worker("/worker.js");
w.onmessage = (e) => { globalThis.fromWorker = e.data; };
w.onerror = (e) => { globalThis.fromWorker = { error: String(e.message) }; };
</script>`;
  // The same worker under a content security policy that refuses blob: workers (its helpers).
  const refusing = page.replace('new Worker("/worker.js")', 'new Worker("/refusing/worker.js")');
  const files: Record<string, [string, string]> = {
    "/": ["text/html", page],
    "/worker.js": ["text/javascript", worker],
    "/main.js": ["text/javascript", mainThread],
    "/refusing/": ["text/html", refusing],
    "/refusing/worker.js": ["text/javascript", worker],
    "/refusing/main.js": ["text/javascript", mainThread],
  };
  server = createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    // Cross-origin isolation: what a page needs for SharedArrayBuffer.
    res.writeHead(200, {
      "Content-Type": file[0],
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      ...(req.url === "/refusing/worker.js" ? { "Content-Security-Policy": "worker-src 'none'" } : {}),
    });
    res.end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test("in a browser's dedicated worker the kernels run on two threads with the bits of one; the main thread runs on one", async () => {
  const page = await browser.newPage();
  const problems = watchForErrors(page);
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as { fromWorker?: unknown }).fromWorker !== undefined, undefined, { timeout: 180_000 });
  const { fromWorker, fromMain, isolated } = await page.evaluate(() => {
    const g = globalThis as unknown as { fromWorker: unknown; fromMain: unknown; crossOriginIsolated: boolean };
    return { fromWorker: g.fromWorker, fromMain: g.fromMain, isolated: g.crossOriginIsolated };
  });
  expect(isolated).toBe(true);
  expect(fromWorker).toMatchObject({ supported: true, same: true, outputs: 6 });
  expect((fromWorker as { chunksByWorker: number }).chunksByWorker).toBeGreaterThan(0);
  // The main thread may not block in Atomics.wait: it keeps the setting and runs on itself, with the same bits.
  expect(fromMain).toEqual({ supported: false, setting: 2, product: 512 * 0.5 });
  expect(problems).toEqual([]);
  await page.close();
}, 240_000);

test("where a content security policy refuses blob: workers, the kernels run on the calling thread with the same bits", async () => {
  const page = await browser.newPage();
  await page.goto(`${origin}/refusing/`);
  await page.waitForFunction(() => (globalThis as { fromWorker?: unknown }).fromWorker !== undefined, undefined, { timeout: 180_000 });
  const fromWorker = await page.evaluate(() => (globalThis as unknown as { fromWorker: unknown }).fromWorker);
  expect(fromWorker).toEqual({ supported: false, chunksByWorker: 0, same: true, outputs: 6 });
  await page.close();
}, 240_000);
