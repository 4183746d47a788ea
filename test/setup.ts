/**
 * Runs before every test file: property tests draw their cases from a fixed seed, so a CI run is
 * reproducible (a failure names the seed and the shrunk counterexample; rerun with the same seed to debug).
 * The kernels' thread count can be set from the environment.
 */
import fc from "fast-check";
import { setThreadCount } from "../src/index.js";

fc.configureGlobal({ seed: 20261126 });

// `DIFFTYPES_TEST_THREADS=1 npx vitest run` runs the suite at another thread count than the default (the
// number of cores): every result must be the same.
const threads = process.env.DIFFTYPES_TEST_THREADS;
if (threads !== undefined) setThreadCount(Number(threads));
