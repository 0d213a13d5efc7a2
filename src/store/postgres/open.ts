import { checkInteger, invalidArgument, TendError } from "../../errors/index.ts";
import { createLogger } from "../../log/index.ts";
import { type PostgresRaw, withRawConnection } from "../raw.ts";
import type { Store, StoreOptions } from "../store.ts";
import { createContext } from "./context.ts";
import { PostgresAdminStore } from "./admin-store.ts";
import { PostgresProcessRegistry } from "./process-registry.ts";
import { PostgresConvergeStore } from "./converge-store.ts";
import { validateSchema } from "./identifiers.ts";
import { createPostgresJobStore } from "./job-store.ts";
import type { ErrorContext } from "./errors.ts";
import { migratePostgres, verifyPostgresMigrated } from "./migrate.ts";
import { PostgresNotifier } from "./notifier.ts";
import { StorePool } from "./pool.ts";
import { postgresSettings } from "./settings.ts";
import { checkPostgresUrl, redactUrl } from "./url.ts";

const DEFAULT_POOL_SIZE = 10;
const MAX_POOL_SIZE = 1000;

/**
 * Opens tend's store on PostgreSQL: a `pg.Pool` for statements and one dedicated connection for
 * LISTEN. Does not migrate by itself (`openStore` calls `migrate()` unless told not to).
 *
 * @example
 * ```ts
 * const store = await openPostgresStore("postgres://app@127.0.0.1:5432/app", { schema: "tend" });
 * await store.migrate();
 * const [job] = await store.jobs.insert([newJob]);
 * await store.close();
 * ```
 */
export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<Store> {
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
    throw invalidArgument(
      "TEND_E_INVALID_DATABASE_URL",
      "database URL",
      url,
      '"postgres://user@host:5432/db"',
    );
  }
  checkPostgresUrl(url);
  const schema = validateSchema(options.schema ?? "tend");
  const max = checkInteger(
    "TEND_E_INVALID_POOL_SIZE",
    "poolSize",
    options.poolSize ?? DEFAULT_POOL_SIZE,
    1,
    MAX_POOL_SIZE,
  );
  const log = (options.log ?? createLogger()).child({ part: "store" });
  const settings = postgresSettings(url, options.timeouts);
  const errors: ErrorContext = { url: redactUrl(url), timeouts: settings.timeouts, poolSize: max };
  const pool = new StorePool(settings.url, errors, log);
  // An idle pooled connection that the server dropped emits here; pg discards it and the next
  // query opens a fresh one. Without a listener the process would crash.
  pool.on("error", (err) =>
    log.warn({ err: err.message }, "an idle PostgreSQL connection was lost; it will be replaced"),
  );

  let closed = false;
  const ctx = createContext(pool, schema, () => closed, settings.timeouts.workerMs);
  const notifier = new PostgresNotifier({ connectionString: settings.url, schema, pool, log, errors });

  const jobs = createPostgresJobStore(ctx);

  const raw: PostgresRaw = {
    driver: "postgres",
    pool,
    schema,
    connectionString: settings.url,
  };
  const converge = new PostgresConvergeStore(raw, notifier);

  let closing: Promise<void> | undefined;
  const store: Store = {
    driver: "postgres",
    url: redactUrl(url),
    jobs,
    notifier,
    converge,
    admin: new PostgresAdminStore(ctx),
    processes: new PostgresProcessRegistry(ctx),
    migrate: () => refusedOptions(migratePostgres(pool, schema, log, errors.url), url),
    verifyMigrated: () => refusedOptions(verifyPostgresMigrated(pool, schema, errors.url), url),
    close: () => {
      closing ??= (async () => {
        closed = true;
        await converge.close();
        await notifier.close();
        await pool.end();
      })();
      return closing;
    },
  };
  return withRawConnection(store, raw);
}

/**
 * The server's refusal of the URL's `options` parameter (`?options=-c statement_timeout=abc`),
 * which comes with the first connection, as TEND_E_INVALID_POSTGRES_OPTION naming the parameter
 * and the server's message, instead of the driver's raw error. Other errors pass as they are.
 */
async function refusedOptions<T>(work: Promise<T>, url: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const sqlState = (err as { code?: unknown } | null)?.code;
    const options = postgresOptionsParam(url);
    if (
      err instanceof TendError ||
      options === null ||
      typeof sqlState !== "string" ||
      !/^(22|42)/.test(sqlState)
    )
      throw err;
    throw new TendError(
      "TEND_E_INVALID_POSTGRES_OPTION",
      `PostgreSQL at ${redactUrl(url)} refused the URL's options parameter ${JSON.stringify(options)}: ${(err as Error).message}.`,
      { details: { name: "options", value: options, sqlState }, cause: err },
    );
  }
}

function postgresOptionsParam(url: string): string | null {
  const q = url.indexOf("?");
  return q === -1 ? null : new URLSearchParams(url.slice(q + 1)).get("options");
}
