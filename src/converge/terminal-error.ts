import { isInstance, readOr } from "../errors/index.ts";

/**
 * Thrown by `converge` when retrying cannot help (bad data that only a person can fix). tend
 * records the key as failed for good (logged, kept in its store) and does not retry it until the
 * key changes: a wake-up of that key, or a sweep whose `find` returns it with a different
 * `version`.
 *
 * @example
 * ```ts
 * converge: async (id, ctx) => {
 *   const [row] = await ctx.sql("SELECT plan FROM cluster WHERE id = $1", [id]);
 *   if (row?.plan === undefined) throw new TerminalError(`cluster ${id} has no plan`);
 * }
 * ```
 */
export class TerminalError extends Error {
  /** Marks the error terminal even across realms or copies of tend. */
  readonly terminal = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/**
 * True when `err` is a TerminalError (or any error carrying `terminal: true`).
 *
 * @example
 * ```ts
 * isTerminalError(new TerminalError("no plan")); // true
 * ```
 */
export function isTerminalError(err: unknown): boolean {
  if (isInstance(err, TerminalError)) return true;
  return isInstance(err, Error) && readOr(() => (err as { terminal?: unknown }).terminal === true, false);
}
