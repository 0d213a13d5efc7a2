import pg from "pg";
import { checkInteger, invalidArgument } from "../../errors/index.ts";
import { createLogger } from "../../log/index.ts";
import { type PostgresRaw, withRawConnection } from "../raw.ts";
import type { Store, StoreOptions } from "../store.ts";
import { createContext } from "./context.ts";
import { PostgresConvergeStore } from "./converge-store.ts";
import { validateSchema } from "./identifiers.ts";
import { createPostgresJobStore } from "./job-store.ts";
import { migratePostgres } from "./migrate.ts";
import { PostgresNotifier } from "./notifier.ts";
import { redactUrl } from "./url.ts";

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
  const schema = validateSchema(options.schema ?? "tend");
  const max = checkInteger(
    "TEND_E_INVALID_POOL_SIZE",
    "poolSize",
    options.poolSize ?? DEFAULT_POOL_SIZE,
    1,
    MAX_POOL_SIZE,
  );
  const log = (options.log ?? createLogger()).child({ part: "store" });
  const pool = new pg.Pool({
    connectionString: url,
    max,
    keepAlive: true,
    application_name: "tend",
    // tend's statements find rows by primary key; on a freshly loaded, never analyzed table the
    // default random_page_cost (4, tuned for spinning disks) makes the planner scan the whole
    // table instead. 1.1 is the usual setting for SSD-backed servers; it applies to tend's own
    // pool only. The pool awaits this hook before it hands the connection out, so the SET never
    // overlaps the first query (a plain SQL statement, unlike a startup parameter, also passes
    // through PgBouncer). A failure is logged and the connection used as it is.
    onConnect: async (client: pg.ClientBase) => {
      await client
        .query("SET random_page_cost = 1.1")
        .catch((err: Error) => log.warn({ err: err.message }, "could not set random_page_cost"));
    },
  });
  // An idle pooled connection that the server dropped emits here; pg discards it and the next
  // query opens a fresh one. Without a listener the process would crash.
  pool.on("error", (err) =>
    log.warn({ err: err.message }, "an idle PostgreSQL connection was lost; it will be replaced"),
  );

  let closed = false;
  const ctx = createContext(pool, schema, () => closed);
  const notifier = new PostgresNotifier({ connectionString: url, schema, pool, log });

  const jobs = createPostgresJobStore(ctx);

  const raw: PostgresRaw = {
    driver: "postgres",
    pool,
    schema,
    connectionString: url,
  };
  const converge = new PostgresConvergeStore(raw, notifier);

  let closing: Promise<void> | undefined;
  const store: Store = {
    driver: "postgres",
    url: redactUrl(url),
    jobs,
    notifier,
    converge,
    migrate: () => migratePostgres(pool, schema, log),
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
