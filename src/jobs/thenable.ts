/**
 * Pure: whether `value` is a promise or any other thenable (what `await` would wait for). The job
 * path awaits a validator's or a handler's result only when it is one: a synchronous result is
 * used at once, without a turn of the microtask queue per job.
 *
 * @example
 * ```ts
 * isThenable(Promise.resolve(1)); // true
 * isThenable(1); // false
 * ```
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
