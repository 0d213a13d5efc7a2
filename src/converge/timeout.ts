/**
 * The errors of `find` and `converge` calls that ran past their timeout: one code,
 * TEND_E_CONVERGER_TIMEOUT, however the call ended (rejected with the reason of its aborted
 * `ctx.signal`, threw something else, or returned late because it ignored the signal).
 */
import { TendError } from "../errors/index.ts";

/**
 * Pure: the error of a `find` that ran past its timeout; `cause` is what it rejected with, if it
 * rejected.
 *
 * @example
 * ```ts
 * throw findTimeout("archive", 30_000, err); // TEND_E_CONVERGER_TIMEOUT
 * ```
 */
export function findTimeout(converger: string, timeoutMs: number, cause?: unknown): TendError {
  return new TendError(
    "TEND_E_CONVERGER_TIMEOUT",
    `Converger "${converger}": find ran past its timeout of ${timeoutMs} ms; make it return sooner (honouring ctx.signal) or raise the timeout.`,
    { details: { converger, timeoutMs }, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * Pure: the error of a `converge` call that ran past its timeout; `cause` is what it rejected
 * with, if it rejected. `changed` says that it returned late with a change, which was recorded.
 *
 * @example
 * ```ts
 * throw convergeTimeout("archive", "42", 30_000, { cause: err }); // TEND_E_CONVERGER_TIMEOUT
 * ```
 */
export function convergeTimeout(
  converger: string,
  key: string,
  timeoutMs: number,
  how: { cause?: unknown; changed?: boolean } = {},
): TendError {
  const late =
    how.changed === true
      ? " It returned a change after the timeout: the inconsistency was recorded, and the key backs off as after any failure."
      : "";
  return new TendError(
    "TEND_E_CONVERGER_TIMEOUT",
    `Converger "${converger}": converge(${JSON.stringify(key)}) ran past its timeout of ${timeoutMs} ms; make it honour ctx.signal or raise the timeout.${late}`,
    {
      details: { converger, key, timeoutMs, ...(how.changed === true ? { changedLate: true } : {}) },
      ...(how.cause === undefined ? {} : { cause: how.cause }),
    },
  );
}
