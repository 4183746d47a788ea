/**
 * Node 20 has no `Symbol.metadata`, which TC39 decorators need for `context.metadata`. esbuild falls back to
 * `Symbol.for("Symbol.metadata")` on its own; installing the same symbol here makes tsc's output agree.
 * This module's only effect is that assignment, and it runs before any decorated class is defined because
 * the decorators import it.
 */
const S = Symbol as unknown as { metadata?: symbol };
S.metadata ??= Symbol.for("Symbol.metadata");

/** @internal The metadata key of TC39 decorators on this runtime. */
export const metadataSymbol: symbol = S.metadata;
