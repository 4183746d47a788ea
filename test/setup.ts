/**
 * Runs before every test file: property tests draw their cases from a fixed seed, so a CI run is
 * reproducible (a failure names the seed and the shrunk counterexample; rerun with the same seed to debug).
 */
import fc from "fast-check";

fc.configureGlobal({ seed: 20261126 });
