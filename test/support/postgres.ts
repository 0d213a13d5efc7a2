import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { migrationsFor } from "../../src/store/components.ts";
import { openStore } from "../../src/store/index.ts";

/**
 * PostgreSQL helpers for tests: the server URL, a reachability check that fails the run (or skips,
 * with TEND_SKIP_POSTGRES=1), and a fresh database per test file cloned from a migrated template.
 * Which server a run uses is chosen once, before any test file, by global-setup.ts: it sets
 * TEND_TEST_POSTGRES_URL (to an embedded server when nothing answers at the default URL).
 */

/** The server tests use when TEND_TEST_POSTGRES_URL is not set. */
export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
const TEST_DB_PREFIX = "tend_test_";
const TEMPLATE_PREFIX = "tend_tpl_";
/** Advisory lock key (on the admin connection) guarding template creation across test processes. */
const TEMPLATE_LOCK_KEY = 0x74656e64; // "tend"

/**
 * The test server's URL: TEND_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test.
 *
 * @example
 * ```ts
 * const admin = new pg.Client({ connectionString: postgresUrl() });
 * ```
 */
export function postgresUrl(): string {
  const { TEND_TEST_POSTGRES_URL: fromEnv } = process.env;
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : DEFAULT_POSTGRES_URL;
}

/**
 * `url` with its database name replaced by `database`.
 *
 * @example
 * ```ts
 * withDatabase("postgres://postgres@127.0.0.1:5432/test", "other"); // ".../other"
 * ```
 */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

let reachable: Promise<string | null> | undefined;

/** Resolves null when the server answers, else the reason it does not. Cached per process. */
function checkReachable(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 5000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      return null;
    } catch (err) {
      return `PostgreSQL at ${redact(postgresUrl())} is unreachable: ${(err as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** Minimal shape of a node:test context that can skip (TestContext or SuiteContext in newer Node). */
interface Skippable {
  skip(message?: string): void;
}

/**
 * Checks that the test PostgreSQL is reachable. Returns true when it is. When it is not: with
 * TEND_SKIP_POSTGRES=1, prints the reason, skips `t` (if given) and returns false; otherwise
 * throws, so that a missing PostgreSQL fails the run instead of silently passing.
 *
 * @example
 * ```ts
 * before(async () => { if (!(await requirePostgres())) return; db = await createTestDatabase(); });
 * ```
 */
export async function requirePostgres(t?: Skippable): Promise<boolean> {
  const reason = await checkReachable();
  if (reason === null) return true;
  const { TEND_SKIP_POSTGRES: skip } = process.env;
  if (skip === "1") {
    const message = `skipped: ${reason} (TEND_SKIP_POSTGRES=1)`;
    console.warn(message);
    t?.skip(message);
    return false;
  }
  throw new Error(
    `${reason}. Run the tests with \`npm test\` (it starts an embedded PostgreSQL when none answers), start PostgreSQL or set TEND_TEST_POSTGRES_URL; set TEND_SKIP_POSTGRES=1 to skip PostgreSQL tests.`,
  );
}

/** A database created for one test file. */
export interface TestDatabase {
  /** Connection URL of the fresh database (tend's tables already migrated in schema `tend`). */
  url: string;
  /** Database name. */
  name: string;
  /** Terminates leftover connections and drops the database. Safe to call twice. */
  drop(): Promise<void>;
}

/** Runs `fn` with a short-lived client on the admin database (postgresUrl()). */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl(), connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Name of the template for the current migrations: changes whenever any migration's SQL changes.
 *
 * @example
 * ```ts
 * const name = await templateName(); // "tend_tpl_<16 hex digits>"
 * ```
 */
export async function templateName(): Promise<string> {
  const hash = createHash("sha256");
  for (const m of await migrationsFor("postgres")) {
    hash.update(`${m.component}\0${m.version}\0${m.name}\0${m.compatibleFrom}\0${m.sql}\0`);
  }
  return `${TEMPLATE_PREFIX}${hash.digest("hex").slice(0, 16)}`;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function ensureTemplate(admin: pg.Client): Promise<string> {
  const template = await templateName();
  const exists = async (name: string) =>
    (await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  if (await exists(template)) return template;
  await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
  try {
    if (await exists(template)) return template;
    // Build under a temporary name and rename when complete, so a crash never leaves a half-made template.
    const building = `${template}_building`;
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(building)}`);
    const store = await openStore(withDatabase(postgresUrl(), building));
    await store.close();
    await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`);
    await dropOldTemplates(admin, template);
    return template;
  } finally {
    await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]);
  }
}

/** Drops templates of earlier migrations (not FORCE: one being cloned right now is left alone). */
async function dropOldTemplates(admin: pg.Client, current: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'tend\\_tpl\\_%' AND datname <> $1 AND datname NOT LIKE '%\\_building'",
    [current],
  );
  for (const { datname } of rows) {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)}`).catch(() => {});
  }
}

/**
 * Creates a fresh database for one test file, cloned from a template that already holds tend's
 * migrated tables (schema `tend`). Call `drop()` in `after`.
 *
 * @example
 * ```ts
 * const db = await createTestDatabase();
 * after(() => db.drop());
 * const store = await openStore(db.url);
 * ```
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  await dropStaleTestDatabases().catch(() => {});
  return withAdmin(async (admin) => {
    let template = await ensureTemplate(admin);
    const name = `${TEST_DB_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // Another process may briefly hold a connection to the template (e.g. while renaming it),
        // or, running another version of the migrations on the same server (another checkout),
        // have dropped it as old: then it is built again.
        if ((code !== "55006" && code !== "3D000") || attempt >= 20) throw err;
        if (code === "3D000") template = await ensureTemplate(admin);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    let dropped = false;
    return {
      url: withDatabase(postgresUrl(), name),
      name,
      drop: async () => {
        if (dropped) return;
        dropped = true;
        await withAdmin((a) => a.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
      },
    };
  });
}

/**
 * Drops test databases (tend_test_<epoch>_*) older than `maxAgeHours`, left behind by killed runs.
 * Called opportunistically by createTestDatabase. Returns the names dropped.
 *
 * @example
 * ```ts
 * await dropStaleTestDatabases(3);
 * ```
 */
export async function dropStaleTestDatabases(maxAgeHours = 3): Promise<string[]> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'tend\\_test\\_%'",
    );
    const cutoff = Date.now() / 1000 - maxAgeHours * 3600;
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const epoch = Number(datname.slice(TEST_DB_PREFIX.length).split("_")[0]);
      if (!Number.isFinite(epoch) || epoch >= cutoff) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => {});
      dropped.push(datname);
    }
    return dropped;
  });
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid URL>";
  }
}
