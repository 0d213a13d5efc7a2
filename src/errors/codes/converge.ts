/** Error codes of the converge part (see docs/errors.md). Keys are the codes; values their meaning. */
export const CONVERGE_CODES = {
  TEND_E_CONVERGER_INVALID_NAME:
    "A converger has no name, or its name is not 1-64 characters of letters, digits, '.', '_' or '-'.",
  TEND_E_CONVERGER_DUPLICATE_NAME: "Two convergers of one app have the same name.",
  TEND_E_CONVERGER_INVALID_DEFINITION:
    "A converger definition is not an object with `find` and `converge` functions.",
  TEND_E_CONVERGER_INVALID_OPTION:
    "A converger option (every, timeout, concurrency, leaseTtl, backoff, pollInterval, or the app's convergers options such as holderId) is missing its type or out of range; or convergeOnce, assertConverged, sweepOnce or the parked-key functions were given something that is not a converger, a signal, a name or a key.",
  TEND_E_CONVERGER_INVALID_WAKE:
    "A `wakeOn` entry is not a table name or `{ table, key }` with valid SQL identifiers.",
  TEND_E_CONVERGER_UNKNOWN_TABLE: "A `wakeOn` table does not exist in the database.",
  TEND_E_CONVERGER_UNKNOWN_COLUMN: "A `wakeOn` key column does not exist in its table.",
  TEND_E_CONVERGER_INVALID_KEYS:
    "`find` returned something other than an array of keys (strings, numbers, bigints, `{ key, version }` or one-column rows).",
  TEND_E_CONVERGER_INVALID_RESULT:
    "`converge` returned something other than nothing or `{ changed?, requeueAfter? }`.",
  TEND_E_CONVERGER_TIMEOUT: "A `converge` or `find` call ran past its timeout.",
  TEND_E_CONVERGER_RECORD_LOST:
    "A `converge` call made a change, but its inconsistency could not be stored: the write kept failing until the term ended or tend gave up, so the record is lost (the change is not).",
  TEND_E_CONVERGER_LEASE_LOST:
    "This process lost a converger's leadership lease; the converger stopped here.",
  TEND_E_CONVERGER_NO_JOBS: "`ctx.enqueue` was called but the converger was created without a jobs layer.",
  TEND_E_CONVERGER_UNSUPPORTED_STORE: "The store's driver is not one the converge part supports.",
  TEND_E_CONVERGER_NOT_CONVERGED:
    "A testing helper found a converger that failed, did not settle, or changed something on a sweep after a quiet one.",
  TEND_E_CONVERGER_INVALID_FILTER: "An inconsistency filter (converger, since, until, limit) is invalid.",
  TEND_E_CONVERGER_KEY_PARKED:
    "A key found by a one-off sweep is parked: an earlier run failed with a TerminalError and the key has not changed since, so it was not run.",
} as const satisfies Record<`TEND_E_${string}`, string>;
