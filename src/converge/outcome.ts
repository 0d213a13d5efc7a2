import { describeValue, TendError } from "../errors/index.ts";
import { parseDuration } from "../lifecycle/index.ts";
import { isEmptyChange } from "./changes.ts";

/** A converge call's return value, interpreted. */
export interface InterpretedOutcome {
  /** What changed (JSON-safe), or null when nothing did. */
  changed: unknown;
  /** Look at the key again after this many ms, or null. */
  requeueAfterMs: number | null;
}

/**
 * Pure: interprets what `converge` returned. Nothing (undefined/null) means no change;
 * `{ changed, requeueAfter }` is read as documented on `ConvergeOutcome`. Anything else throws
 * `TEND_E_CONVERGER_INVALID_RESULT` (that key fails; the others go on).
 *
 * @example
 * ```ts
 * interpretOutcome("c", { changed: { archived: [1] }, requeueAfter: "5s" });
 * // { changed: { archived: [1] }, requeueAfterMs: 5000 }
 * ```
 */
export function interpretOutcome(converger: string, value: unknown): InterpretedOutcome {
  if (value === undefined || value === null) return { changed: null, requeueAfterMs: null };
  const bad = (why: string) =>
    new TendError(
      "TEND_E_CONVERGER_INVALID_RESULT",
      `Converger "${converger}": converge() returned ${describeValue(value)}; ${why}`,
      { details: { converger, value } },
    );
  if (typeof value !== "object" || Array.isArray(value)) {
    throw bad("expected nothing or { changed?, requeueAfter? } (wrap what changed as { changed: ... }).");
  }
  const record = value as { changed?: unknown; requeueAfter?: unknown };
  for (const field of Object.keys(record)) {
    if (field !== "changed" && field !== "requeueAfter") {
      throw bad(`unexpected field "${field}"; expected only changed and requeueAfter.`);
    }
  }
  let requeueAfterMs: number | null = null;
  if (record.requeueAfter !== undefined && record.requeueAfter !== null) {
    try {
      requeueAfterMs = parseDuration(record.requeueAfter, "requeueAfter");
    } catch {
      throw bad('requeueAfter must be a duration such as 5000 or "5s".');
    }
  }
  const changed = isEmptyChange(record.changed) ? null : record.changed;
  if (changed !== null) {
    // JSON.stringify returns undefined, not a throw, for a value with no JSON form (a Symbol, a
    // function, an object whose toJSON returns undefined): that cannot be recorded either.
    let text: unknown;
    try {
      text = JSON.stringify(changed);
    } catch {
      throw bad("changed must be JSON-serialisable.");
    }
    if (typeof text !== "string") {
      throw bad(
        "changed must be JSON-serialisable (it has no JSON form: a Symbol, a function, or a toJSON returning undefined).",
      );
    }
  }
  return { changed, requeueAfterMs };
}
