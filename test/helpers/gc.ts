/** The garbage collector, for memory tests: `gc()` runs a full collection; `collect()` also lets finalizers run. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
/** A full collection (V8's `gc`, exposed at run time). */
export const gc = runInNewContext("gc") as () => void;

/** Lets finalizers run: a full collection, then a turn of the event loop, three times. */
export async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
