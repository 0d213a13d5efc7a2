import { invalidArgument, TendError } from "../errors/index.ts";
import { type DurationLimits, MAX_TIMER_MS } from "../lifecycle/index.ts";
import { jobIdText } from "../store/index.ts";
import { encodeJsonValue } from "./json-value.ts";

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

/** What is being encoded: the value's name in paths, the code of its errors, and its owner for messages. */
export interface EncodedValue {
  /** The value's name at the head of a path: `payload`, `items[3].payload`, `result`. */
  root: string;
  code: "TEND_E_INVALID_PAYLOAD" | "TEND_E_INVALID_RESULT";
  /** Whose value it is, for the message: `job kind "email.send"`, `job 42`. */
  owner: string;
}

/**
 * Encodes a payload or result as JSON, enforcing the rule of what a job may carry (see
 * json-value.ts) and a byte limit. Throws `what.code` naming the path of a bad value, or
 * TEND_E_PAYLOAD_TOO_LARGE.
 *
 * @example
 * ```ts
 * const text = encodeJson({ root: "payload", code: "TEND_E_INVALID_PAYLOAD", owner: 'job kind "k"' }, { n: 1 }, 1024);
 * ```
 */
export function encodeJson(what: EncodedValue, value: unknown, limitBytes: number): string {
  const encoded = encodeJsonValue(value === undefined ? null : value, what.root);
  if (!encoded.ok) {
    const { path, why, fix } = encoded.problem;
    throw new TendError(
      what.code,
      `The ${what.root.replace(/^.*\./, "")} of ${what.owner} cannot be stored as it is: ${path} ${why}; ${fix}.`,
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
        `The ${what.root.replace(/^.*\./, "")} of ${what.owner} is ${bytes} bytes of JSON, more than the limit of ${limitBytes}. Store large data elsewhere and pass a reference.`,
        { details: { path: what.root, bytes, limitBytes } },
      );
    }
  }
  return text;
}
