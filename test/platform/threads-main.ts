/**
 * Loaded by browser-threads.test.ts on the main thread of a cross-origin isolated page: threads are not
 * supported there (the main thread may not block), the setting is kept and the kernels run on this thread.
 */
import { matmul, ones } from "../../src/index.js";
import { getThreadCount, setThreadCount, threadsSupported } from "../../src/tensor/wasm/threads.js";

setThreadCount(2);
(globalThis as unknown as { fromMain: unknown }).fromMain = {
  supported: threadsSupported(),
  setting: getThreadCount(),
  product: matmul(ones([512, 512]), ones([512, 512]).mul(0.5)).max().item(),
};
