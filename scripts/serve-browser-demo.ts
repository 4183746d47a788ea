/**
 * Serves the browser page (examples/browser) on localhost, bundling its TypeScript with esbuild on each
 * request that follows a change. `npm run demo:browser` runs it; the browser test starts it on a free port.
 *
 *   npm run demo:browser              # http://127.0.0.1:8080
 *   npm run demo:browser -- --port 9000
 */
import { fileURLToPath } from "node:url";
import * as path from "node:path";
import * as esbuild from "esbuild";

const pageDir = fileURLToPath(new URL("../examples/browser/", import.meta.url));

/** The esbuild options of the page's bundle: what a user's own browser build of difftypes would use. */
export function pageBuildOptions(): esbuild.BuildOptions {
  return {
    entryPoints: [path.join(pageDir, "main.ts")],
    outdir: path.join(pageDir, "build"),
    bundle: true,
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

/** Starts serving the page (port 0 picks a free one); the first bundle is built before this resolves. */
export async function serveBrowserDemo(port = 8080, host = "127.0.0.1"): Promise<DemoServer> {
  const context = await esbuild.context({ ...pageBuildOptions(), write: false });
  try {
    // Fails here, with esbuild's message, if the page does not bundle (e.g. a Node import reached it).
    await context.rebuild();
    const served = await context.serve({ servedir: pageDir, port, host });
    return { url: `http://${host}:${served.port}/`, stop: () => context.dispose() };
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
