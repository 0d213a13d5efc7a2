import { TendError } from "../errors/index.ts";
import { type JobError, storableText } from "../store/index.ts";

/** Why the worker aborted a handler's signal, if it did. */
export type AbortReason = "timeout" | "cancel" | "lease-lost" | "shutdown";

/** What to write after an attempt ended with an error. */
export type FailureOutcome =
  | { write: "fail"; error: JobError; retryable: boolean }
  | { write: "release" }
  | { write: "cancel" }
  | { write: "nothing" };

/**
 * Pure: decides what an attempt that threw `err` should write, given why (if at all) the worker
 * aborted its signal. A shutdown returns the job without spending the attempt; a cancel marks it
 * cancelled; a lost lease writes nothing (a newer attempt owns the job); a timeout or an ordinary
 * error records the error and retries (bad payloads and other non-retryable TendErrors excepted).
 * The recorded message and stack have U+0000 and lone surrogates escaped, so that any failure can
 * be recorded on either database.
 */
export function failureOutcome(
  err: unknown,
  abortReason: AbortReason | null,
  attempt: number,
  now: Date,
): FailureOutcome {
  switch (abortReason) {
    case "shutdown":
      return { write: "release" };
    case "cancel":
      return { write: "cancel" };
    case "lease-lost":
      return { write: "nothing" };
    case "timeout":
      return {
        write: "fail",
        retryable: true,
        error: {
          attempt,
          at: now.toISOString(),
          message:
            err instanceof TendError && err.details["abandonedAfterMs"] !== undefined
              ? `The job ran longer than its timeout; its signal was aborted, and its handler ignored that for ${String(err.details["abandonedAfterMs"])} ms, so it was given up on (it may have gone on running).`
              : "The job ran longer than its timeout; its signal was aborted.",
          code: "TEND_E_JOB_TIMEOUT",
          ...stackOf(err),
        },
      };
    default: {
      const code = err instanceof TendError ? err.code : undefined;
      return {
        write: "fail",
        retryable: code !== "TEND_E_INVALID_PAYLOAD",
        error: {
          attempt,
          at: now.toISOString(),
          message: storableText(messageOf(err)),
          ...(code === undefined ? {} : { code }),
          ...stackOf(err),
        },
      };
    }
  }
}

/**
 * What a handler or validator threw, safe to read: the value itself when its message, stack, name
 * and class can be read without throwing (every ordinary error, string or plain value), else an
 * Error saying so (a getter that throws, a Proxy, a revoked Proxy, a Symbol name), so that its
 * failure is still recorded rather than the recording itself failing.
 *
 * @example
 * ```ts
 * readableThrown(new Error("boom")); // the same Error
 * ```
 */
export function readableThrown(err: unknown): unknown {
  try {
    if (typeof err === "symbol") return new Error(`Non-error thrown: ${err.toString()}`);
    if (typeof err !== "object" || err === null) return err;
    if (err instanceof Error) {
      // Read as recording reads them: any of these may be a getter that throws.
      void String(err.message);
      void String(err.name);
      void (typeof err.stack === "string" ? err.stack.length : 0);
      void (err instanceof TendError ? err.code : undefined);
      void err.cause;
      return err;
    }
    JSON.stringify(err);
    return err;
  } catch (failure) {
    let why = "";
    try {
      why = failure instanceof Error ? `: ${failure.message}` : "";
    } catch {
      why = "";
    }
    return new Error(`A thrown value whose details could not be read (a getter threw, or a Proxy)${why}`);
  }
}

/** A readable message for anything thrown (not only Errors). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string") return err;
  try {
    return `Non-error thrown: ${JSON.stringify(err)}`;
  } catch {
    return `Non-error thrown: ${String(err)}`;
  }
}

/** The error's stack, at most 8,000 characters, with what a database cannot store escaped. */
function stackOf(err: unknown): { stack?: string } {
  // Escaped after the cut, which may split a surrogate pair.
  return err instanceof Error && typeof err.stack === "string"
    ? { stack: storableText(err.stack.slice(0, 8_000)) }
    : {};
}
