/**
 * Serves the browser page (examples/browser) on localhost, bundling its TypeScript with esbuild on each
 * request that follows a change, and ONNX Runtime Web's WebAssembly files from node_modules under `/ort/`
 * (the page exports its trained model and runs it there; nothing is fetched from a CDN).
 * `npm run demo:browser` runs it; the browser test starts it on a free port.
 *
 *   npm run demo:browser              # http://127.0.0.1:8080
 *   npm run demo:browser -- --port 9000
 */
import { fileURLToPath } from "node:url";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import * as esbuild from "esbuild";

const pageDir = fileURLToPath(new URL("../examples/browser/", import.meta.url));
/** Where `onnxruntime-web` keeps its WebAssembly binaries and their loaders. */
const ortDir = fileURLToPath(new URL("../node_modules/onnxruntime-web/dist/", import.meta.url));
/** The URL prefix under which the page finds them (the page sets `ort.env.wasm.wasmPaths` to it). */
export const ORT_PREFIX = "/ort/";

/** The esbuild options of the page's bundle: what a user's own browser build of difftypes would use. */
export function pageBuildOptions(): esbuild.BuildOptions {
  return {
    entryPoints: [path.join(pageDir, "main.ts")],
    outdir: path.join(pageDir, "build"),
    bundle: true,
    // ONNX Runtime Web is imported on demand, so it is a chunk of its own, loaded after training.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    logLevel: "silent",
  };
}

/** A running page server: its address, and how to stop it. */
export interface DemoServer {
  readonly url: string;
  stop(): Promise<void>;
}

const ortTypes: Record<string, string> = { ".wasm": "application/wasm", ".mjs": "text/javascript; charset=utf-8" };

/** Answers `/ort/<file>` from onnxruntime-web's dist folder (its .wasm and .mjs files only); false for other paths. */
export async function serveOrt(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  if (!pathname.startsWith(ORT_PREFIX)) return false;
  const name = pathname.slice(ORT_PREFIX.length);
  const type = ortTypes[path.extname(name)];
  // One plain file name: no folders, so nothing outside the dist folder can be named.
  const info = type !== undefined && /^[\w.-]+$/.test(name) ? await stat(path.join(ortDir, name)).catch(() => undefined) : undefined;
  if (info === undefined || !info.isFile()) {
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`);
    return true;
  }
  res.writeHead(200, { "content-type": type!, "content-length": info.size });
  if (req.method === "HEAD") res.end();
  else createReadStream(path.join(ortDir, name)).pipe(res);
  return true;
}

/** Passes a request on to esbuild's own server (the page and its bundle). */
function proxy(req: http.IncomingMessage, res: http.ServerResponse, target: { host: string; port: number }): void {
  const forward = http.request(
    { hostname: target.host, port: target.port, path: req.url, method: req.method, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on("error", (e) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(`the page's bundler did not answer: ${e.message}`);
  });
  req.pipe(forward);
}

/**
 * Starts serving the page (port 0 picks a free one); the first bundle is built before this resolves.
 * esbuild serves the page on an internal port; a small server in front adds ONNX Runtime Web's files.
 */
export async function serveBrowserDemo(port = 8080, host = "127.0.0.1"): Promise<DemoServer> {
  const context = await esbuild.context({ ...pageBuildOptions(), write: false });
  try {
    // Fails here, with esbuild's message, if the page does not bundle (e.g. a Node import reached it).
    await context.rebuild();
    const inner = await context.serve({ servedir: pageDir, port: 0, host: "127.0.0.1" });
    const target = { host: "127.0.0.1", port: inner.port };
    const front = http.createServer((req, res) => {
      serveOrt(req, res).then(
        (done) => {
          if (!done) proxy(req, res, target);
        },
        (e: unknown) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(e));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(port, host, resolve);
    });
    const { port: bound } = front.address() as AddressInfo;
    const stop = async (): Promise<void> => {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await context.dispose();
    };
    return { url: `http://${host}:${bound}/`, stop };
  } catch (e) {
    await context.dispose();
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf("--port");
  const port = i >= 0 ? Number(process.argv[i + 1]) : 8080;
  const server = await serveBrowserDemo(port);
  console.log(`The training page is at ${server.url} (Ctrl+C to stop)`);
}
