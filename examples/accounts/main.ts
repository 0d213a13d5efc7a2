/**
 * The accounts example: archive an account with one SQL statement and watch tend's convergers
 * archive its resources, deprovision its clusters through a job, and close its subscriptions.
 *
 *   node examples/accounts/main.ts                       # SQLite file ./var/accounts.db
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test node examples/accounts/main.ts
 *   node examples/accounts/main.ts --seed                # add a few demo accounts first
 *
 * Then, in sqlite3 or psql (see docs/operations.md):
 *   UPDATE account SET archived_at = now() WHERE email = 'ada@example.com' RETURNING *;
 */
import { createAccountsApp } from "./app.ts";
import { addAccount } from "./schema.ts";

const database = process.env["DATABASE_URL"] ?? "sqlite:./var/accounts.db";
const leaseTtl = process.env["ACCOUNTS_LEASE_TTL"];
const { app, db } = await createAccountsApp({
  database,
  ...(leaseTtl === undefined ? {} : { converger: { leaseTtl } }),
});
if (process.argv.includes("--seed")) {
  for (const email of ["ada@example.com", "grace@example.com"]) {
    const [exists] = await db.sql("SELECT id FROM account WHERE email = $1", [email]);
    if (exists === undefined) await addAccount(db, email, 2);
  }
}
const code = await app.main();
await db.close();
process.exit(code);
