/**
 * Assembles the accounts example on a tend app: the schema, the backend job and the three
 * convergers. Used by main.ts and by the tests.
 */
import { type App, createApp } from "../../src/app.ts";
import type { ConvergerDefinition } from "../../src/converge/index.ts";
import type { Logger } from "../../src/log/logger.ts";
import { ACCOUNT_CONVERGERS, deprovisionCluster } from "./convergers.ts";
import { type AppDatabase, openAppDatabase } from "./db.ts";
import { ensureSchema } from "./schema.ts";

export interface AccountsApp {
  app: App;
  db: AppDatabase;
}

/** Options: the database URL, and overrides for every converger (e.g. a short lease TTL in tests). */
export async function createAccountsApp(options: {
  database: string;
  log?: Logger;
  converger?: Partial<Pick<ConvergerDefinition, "leaseTtl" | "every" | "pollInterval">>;
}): Promise<AccountsApp> {
  const db = await openAppDatabase(options.database);
  await ensureSchema(db);
  const app = createApp({
    database: options.database,
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  app.job<{ clusterId: string }>(
    "cluster.deprovision",
    ({ payload, signal }) => deprovisionCluster(db, payload.clusterId, signal),
    { maxAttempts: 10 },
  );
  for (const definition of ACCOUNT_CONVERGERS) app.converger({ ...definition, ...options.converger });
  return { app, db };
}
