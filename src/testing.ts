/**
 * Helpers for testing convergers (package export `tend/testing`): run one sweep and see what
 * changed, or assert that a converger settles.
 */

import type { Converger, SweepReport } from "./converge/index.ts";
import {
  checkObject,
  checkSignal,
  invalidArgument,
  optionKeys,
  readOr,
  rejectUnknownKeys,
  TendError,
} from "./errors/index.ts";

export type { SweepReport } from "./converge/index.ts";

const ONCE_KEYS = optionKeys<{ signal?: AbortSignal; throwOnError?: boolean }>({
  signal: true,
  throwOnError: true,
});
const CONVERGED_KEYS = optionKeys<{ maxSweeps?: number; signal?: AbortSignal }>({
  maxSweeps: true,
  signal: true,
});

/**
 * Runs one sweep of `converger` now (its `find`, then `converge` for every key found; no lease
 * needed) and returns what changed, key by key. Errors of single keys are in `errors`; pass
 * `{ throwOnError: true }` to fail instead. A `signal` that aborts (before or during the sweep)
 * rejects with its reason: an incomplete sweep is never reported as a result.
 *
 * @example
 * ```ts
 * const { changed } = await convergeOnce(archiveAccountResources);
 * assert.deepEqual(changed.map((c) => c.key), ["42"]);
 * ```
 */
export async function convergeOnce(
  converger: Converger,
  options: { signal?: AbortSignal; throwOnError?: boolean } = {},
): Promise<SweepReport> {
  checkConverger("convergeOnce", converger);
  checkObject(CODE, "convergeOnce options", options, "an options object (or nothing)");
  rejectUnknownKeys("convergeOnce options", options, ONCE_KEYS);
  if (options.signal !== undefined) checkSignal(CODE, "convergeOnce signal", options.signal);
  const report = await converger.sweepOnce(options.signal === undefined ? {} : { signal: options.signal });
  // A sweep cut short by its signal reports only what it reached: not a result to pass on.
  options.signal?.throwIfAborted();
  if (options.throwOnError === true && report.errors.length > 0) {
    const first = report.errors[0];
    throw new TendError(
      "TEND_E_CONVERGER_NOT_CONVERGED",
      `Converger "${converger.definition.name}" failed for ${report.errors.length} key(s); first: ${first?.key}.`,
      { details: { converger: converger.definition.name, errors: report.errors }, cause: first?.error },
    );
  }
  return report;
}

/**
 * Runs sweeps of `converger` until one changes nothing, then one more, and fails
 * (TEND_E_CONVERGER_NOT_CONVERGED) if that last sweep changed anything, if a key failed, or if it
 * did not settle within `maxSweeps` (default 10). Returns every change made on the way.
 *
 * @example
 * ```ts
 * const changes = await assertConverged(subscriptions);
 * assert.equal(changes.length, 2);
 * ```
 */
export async function assertConverged(
  converger: Converger,
  options: { maxSweeps?: number; signal?: AbortSignal } = {},
): Promise<Array<{ key: string; changes: unknown }>> {
  checkConverger("assertConverged", converger);
  checkObject(CODE, "assertConverged options", options, "an options object (or nothing)");
  rejectUnknownKeys("assertConverged options", options, CONVERGED_KEYS);
  const name = converger.definition.name;
  const maxSweeps = options.maxSweeps ?? 10;
  const all: Array<{ key: string; changes: unknown }> = [];
  const sweep = () =>
    convergeOnce(converger, {
      throwOnError: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  for (let i = 0; i < maxSweeps; i++) {
    const report = await sweep();
    all.push(...report.changed);
    if (report.changed.length === 0) {
      const last = await sweep();
      if (last.changed.length > 0) {
        throw new TendError(
          "TEND_E_CONVERGER_NOT_CONVERGED",
          `Converger "${name}" is not idempotent: after a sweep changed nothing, the next one changed ${last.changed.length} key(s) (first: ${last.changed[0]?.key}).`,
          { details: { converger: name, changed: last.changed } },
        );
      }
      return all;
    }
  }
  throw new TendError(
    "TEND_E_CONVERGER_NOT_CONVERGED",
    `Converger "${name}" still changed something after ${maxSweeps} sweeps; it does not settle.`,
    { details: { converger: name, maxSweeps } },
  );
}

const CODE = "TEND_E_CONVERGER_INVALID_OPTION";

/** Throws TEND_E_CONVERGER_INVALID_OPTION unless `value` is a converger (from createConverger or app.converger). */
function checkConverger(call: string, value: unknown): void {
  const c = value as Partial<Converger> | null;
  const ok = readOr(
    () =>
      typeof c === "object" &&
      c !== null &&
      typeof c.sweepOnce === "function" &&
      typeof c.definition?.name === "string",
    false,
  );
  if (!ok)
    throw invalidArgument(
      CODE,
      `${call} converger`,
      value,
      "a converger (from createConverger or app.converger)",
    );
}
