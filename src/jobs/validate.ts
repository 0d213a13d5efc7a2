import { invalidArgument, TendError } from "../errors/index.ts";
import { type DurationLimits, MAX_TIMER_MS } from "../lifecycle/index.ts";
import { jobIdText } from "../store/index.ts";

/** Limits of a jobs duration option that is not a timer (a delay, a retention). */
export const POSITIVE_DURATION: DurationLimits = { code: "TEND_E_INVALID_JOB_OPTIONS", positive: true };

/** Limits of a jobs duration option that arms a timer (a lease, a timeout, a poll interval). */
export const TIMER_DURATION: DurationLimits = { ...POSITIVE_DURATION, max: MAX_TIMER_MS };

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Throws TEND_E_INVALID_JOB_KIND unless `kind` is a valid job kind name. */
export function checkKind(kind: unknown): string {
  if (typeof kind !== "string" || !NAME.test(kind)) {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_KIND",
      "job kind",
      kind,
      "1-128 characters of letters, digits and ._:-",
    );
  }
  return kind;
}

/** Throws TEND_E_INVALID_QUEUE unless `queue` is a valid queue name. */
export function checkQueue(queue: unknown): string {
  if (typeof queue !== "string" || !NAME.test(queue)) {
    throw invalidArgument(
      "TEND_E_INVALID_QUEUE",
      "queue",
      queue,
      "1-128 characters of letters, digits and ._:-",
    );
  }
  return queue;
}

/** Throws TEND_E_INVALID_JOB_ID unless `id` is a job id (decimal digits, or a positive safe integer). */
export function checkJobId(id: unknown): string {
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  return jobIdText(id);
}

/**
 * Encodes a payload or result as JSON, enforcing a byte limit.
 * Throws TEND_E_PAYLOAD_NOT_JSON or TEND_E_PAYLOAD_TOO_LARGE.
 */
export function encodeJson(what: string, value: unknown, limitBytes: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new TendError(
      "TEND_E_PAYLOAD_NOT_JSON",
      `The ${what} cannot be encoded as JSON: ${(err as Error).message}`,
      {
        details: { what },
        cause: err,
      },
    );
  }
  if (text === undefined) {
    throw new TendError(
      "TEND_E_PAYLOAD_NOT_JSON",
      `The ${what} cannot be encoded as JSON (got a ${typeof value}).`,
      {
        details: { what },
      },
    );
  }
  // Cheap bound first: a UTF-8 byte is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limitBytes) {
      throw new TendError(
        "TEND_E_PAYLOAD_TOO_LARGE",
        `The ${what} is ${bytes} bytes of JSON, more than the limit of ${limitBytes}. Store large data elsewhere and pass a reference.`,
        { details: { what, bytes, limitBytes } },
      );
    }
  }
  return text;
}
