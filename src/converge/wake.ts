import { TendError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import { wakeTable } from "./definition.ts";
import { convergeStoreOf } from "./store.ts";

/**
 * Installs (idempotently) the change trigger that wakes convergers on `table`: on PostgreSQL a row
 * trigger that pg_notify's the row's `keyColumn` at commit (only when an UPDATE really changed
 * the row); on SQLite triggers that append to tend's wake-up log. Convergers install their own
 * `wakeOn` triggers at start; call this from the app's migrations to have them in place earlier.
 * Returns the table as wake-ups name it.
 *
 * @example
 * ```ts
 * await installWakeTrigger(store, "account", "id");
 * ```
 */
export async function installWakeTrigger(store: Store, table: string, keyColumn?: string): Promise<string> {
  const parsed = wakeTable(keyColumn === undefined ? table : { table, key: keyColumn }, "installWakeTrigger");
  const converge = convergeStoreOf(store);
  if (!(await converge.tableExists(parsed))) {
    throw new TendError(
      "TEND_E_CONVERGER_UNKNOWN_TABLE",
      `Table "${table}" does not exist; create it before installing its wake-up trigger.`,
      {
        details: { table },
      },
    );
  }
  return converge.installWakeTrigger(parsed);
}
