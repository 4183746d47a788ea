/**
 * Derivatives are taken of synchronous code only. A level is open while the operator runs `f`; a
 * promise settles after the operator has returned, when its level is closed, so whatever `f` computes after
 * an `await` carries no derivative. An `async` function (or a promise returned by a plain one) is therefore
 * an error at the call, not a broken result later.
 */

/** @internal True for a promise or any other thenable. */
export function isPromiseLike(v: unknown): boolean {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** @internal True for an `async` function (or async generator): it can only return a promise. */
export function isAsyncFunction(f: unknown): boolean {
  const tag = typeof f === "function" ? Object.prototype.toString.call(f) : "";
  return tag === "[object AsyncFunction]" || tag === "[object AsyncGeneratorFunction]";
}

/**
 * @internal Rejects an `async` function before it runs, and a promise returned by a plain one: derivatives
 * are taken of synchronous code only (a promise's value exists after the operator has returned, when its
 * level is closed). `what` names the function in the message.
 */
export function checkSynchronous(op: string, what: string, f: unknown, result?: unknown): void {
  const async = isAsyncFunction(f);
  if (!async && !isPromiseLike(result)) return;
  // A promise already returned would report its own failure as an unhandled rejection; this error says it all.
  if (isPromiseLike(result)) (result as Promise<unknown>).then(undefined, () => undefined);
  throw new TypeError(
    `${op}: ${what} ${async ? "is an async function" : "returned a Promise"}, which cannot be differentiated: derivatives follow ` +
      `the operations run before the operator returns. Await the data first (e.g. const x = await load()), then pass a ` +
      `synchronous function`,
  );
}

