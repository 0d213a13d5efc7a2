import type { SQLInputValue, StatementSync } from "node:sqlite";
import { isUnsafeInteger } from "./unreadable-rows.ts";
import type { Row } from "./rows.ts";

/**
 * Reads for operators (list, show, stats, activity, bulk actions) that a row changed outside tend
 * cannot break. node:sqlite refuses to read an integer beyond 2^53 (see unreadable-rows.ts), and
 * one such row would fail the whole answer: `tend jobs list`, `stats` and the dashboard would show
 * nothing while it exists. These read as usual and, only when that refusal happens, read again
 * with 64-bit integers and hand each one back as the nearest number (a time that far out is no
 * Date, so it shows as an invalid time). The normal path costs nothing more.
 */

/** Pure: a row whose bigint values (read with setReadBigInts) are the nearest numbers. */
function toNumbers(row: Row): Row {
  for (const key of Object.keys(row)) {
    const v = row[key];
    if (typeof v === "bigint") row[key] = Number(v);
  }
  return row;
}

function wide<T>(stmt: StatementSync, read: () => T): T {
  stmt.setReadBigInts(true);
  try {
    return read();
  } finally {
    stmt.setReadBigInts(false);
  }
}

/**
 * `stmt.all(...args)`, integers beyond 2^53 read as the nearest numbers (see the module comment).
 *
 * @example
 * ```ts
 * const rows = readAll(ctx.stmt("SELECT id, attempt FROM tend_jobs"));
 * ```
 */
export function readAll(stmt: StatementSync, ...args: SQLInputValue[]): Row[] {
  try {
    return stmt.all(...args) as Row[];
  } catch (err) {
    if (!isUnsafeInteger(err)) throw err;
    return wide(stmt, () => (stmt.all(...args) as Row[]).map(toNumbers));
  }
}

/**
 * `stmt.get(...args)`, integers beyond 2^53 read as the nearest numbers (see the module comment).
 *
 * @example
 * ```ts
 * const row = readGet(ctx.stmt("SELECT max(id) AS v FROM tend_jobs"));
 * ```
 */
export function readGet(stmt: StatementSync, ...args: SQLInputValue[]): Row | undefined {
  try {
    return stmt.get(...args) as Row | undefined;
  } catch (err) {
    if (!isUnsafeInteger(err)) throw err;
    return wide(stmt, () => {
      const row = stmt.get(...args) as Row | undefined;
      return row === undefined ? undefined : toNumbers(row);
    });
  }
}
