/**
 * The database of one scenario: an SQLite file in its temp folder, or a fresh PostgreSQL database
 * on the test server (test/support/postgres.ts), dropped at the end.
 */
import { join } from "node:path";
import { createTestDatabase } from "../../test/support/postgres.ts";
import type { ScenarioContext } from "./scenario.ts";

/** Creates the scenario's database for `ctx.driver` and returns its URL. */
export async function scenarioDatabase(ctx: ScenarioContext): Promise<string> {
  if (ctx.driver === "sqlite") return `sqlite:${join(ctx.dir, "tend.db")}`;
  if (ctx.driver !== "postgres") throw new Error(`no database for driver ${ctx.driver}`);
  const db = await createTestDatabase();
  ctx.defer(() => db.drop());
  return db.url;
}
