import { invalidArgument, TendError } from "../errors/index.ts";
import { type DurationLimits, MAX_TIMER_MS } from "../lifecycle/index.ts";
import { jobIdText, queueArg } from "../store/index.ts";
import { encodeJsonValue, located } from "./json-value.ts";

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

/** Throws TEND_E_INVALID_QUEUE unless `queue` is a valid queue name (the store's own check). */
export const checkQueue: (queue: unknown) => string = queueArg;

/** Throws TEND_E_INVALID_JOB_ID unless `id` is a job id (decimal digits, or a positive safe integer). */
export function checkJobId(id: unknown): string {
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return String(id);
  return jobIdText(id);
}

/** What is being encoded: the value, its job and its error code (message text is built only on an error). */
export interface EncodedValue {
  value: "payload" | "result" | "progress";
  code: "TEND_E_INVALID_PAYLOAD" | "TEND_E_INVALID_RESULT" | "TEND_E_INVALID_PROGRESS";
  kind: string;
  /** The job's id, once it has one (a result). */
  jobId?: string;
  /** The index of the item in an enqueueMany or batch call. */
  item?: number;
}

/**
 * Encodes a payload or result as JSON, enforcing the rule of what a job may carry (see
 * json-value.ts) and a byte limit. Throws `what.code` naming the path of a bad value (for
 * example `items[3].payload.tags[1]`), or TEND_E_PAYLOAD_TOO_LARGE.
 *
 * @example
 * ```ts
 * const text = encodeJson({ value: "payload", code: "TEND_E_INVALID_PAYLOAD", kind: "k" }, { n: 1 }, 1024);
 * ```
 */
export function encodeJson(what: EncodedValue, value: unknown, limitBytes: number): string {
  const encoded = encodeJsonValue(value === undefined ? null : value);
  if (!encoded.ok) {
    const { path, why, fix } = located(encoded.problem, rootOf(what));
    throw new TendError(
      what.code,
      `The ${what.value} of ${ownerOf(what)} cannot be stored as it is: ${path} ${why}; ${fix}.`,
      { details: { path, why } },
    );
  }
  const text = encoded.text;
  // Cheap bound first: a UTF-8 byte is at most 3 bytes per UTF-16 unit.
  if (text.length * 3 > limitBytes) {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > limitBytes) {
      throw new TendError(
        "TEND_E_PAYLOAD_TOO_LARGE",
        `The ${what.value} of ${ownerOf(what)} is ${bytes} bytes of JSON, more than the limit of ${limitBytes}. Store large data elsewhere and pass a reference.`,
        { details: { path: rootOf(what), bytes, limitBytes } },
      );
    }
  }
  return text;
}

function rootOf(what: EncodedValue): string {
  return what.item === undefined ? what.value : `items[${what.item}].${what.value}`;
}

function ownerOf(what: EncodedValue): string {
  return what.jobId === undefined ? `job kind "${what.kind}"` : `job ${what.jobId} (kind "${what.kind}")`;
}

/**
 * Throws TEND_E_INVALID_JOB_OPTIONS unless `key` is a concurrency key: a string of 1-512
 * characters of Unicode text without U+0000 (stored as text on both drivers).
 *
 * @example
 * ```ts
 * checkConcurrencyKey(`tenant:${tenantId}`);
 * ```
 */
export function checkConcurrencyKey(key: unknown, what = "concurrencyKey"): string {
  if (
    typeof key !== "string" ||
    key.length === 0 ||
    key.length > 512 ||
    key.includes("\u0000") ||
    !key.isWellFormed()
  ) {
    throw invalidArgument(
      "TEND_E_INVALID_JOB_OPTIONS",
      what,
      key,
      "a string of 1-512 characters of Unicode text without U+0000",
    );
  }
  return key;
}
