/**
 * Global setup of `npm test` (`node --test --test-global-setup=test/support/global-setup.ts`): picks
 * the PostgreSQL the run uses (see postgres-plan.ts), starts an embedded one when nothing usable
 * answers, and hands the choice to every test process through TEND_TEST_POSTGRES_URL (test files
 * run in child processes that inherit this process's environment). Prints one line naming the
 * server and its version. The teardown stops the embedded server and removes its folder; the test
 * runner calls it after the last file, on failure and on Ctrl-C (and the server's helper stops it
 * by itself if this process is killed).
 */
import pg from "pg";
import { redactUrl } from "../../src/store/postgres/url.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres/start.ts";
import { planTestPostgres } from "./postgres-plan.ts";
import { DEFAULT_POSTGRES_URL } from "./postgres.ts";

let embedded: EmbeddedPostgres | undefined;

function say(line: string): void {
  process.stderr.write(`tend tests: ${line}\n`);
}

/** The server's version at `url`, or throws why it cannot be reached. */
async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    return rows[0]!.server_version;
  } finally {
    await client.end().catch(() => {});
  }
}

async function startEmbedded(why: string): Promise<void> {
  embedded = await startEmbeddedPostgres();
  process.env["TEND_TEST_POSTGRES_URL"] = embedded.url;
  say(
    `PostgreSQL ${embedded.version}, embedded (${why}), started in ${(embedded.startMs / 1000).toFixed(1)} s at ${redactUrl(embedded.url)}`,
  );
}

export async function globalSetup(): Promise<void> {
  const plan = planTestPostgres(process.env, DEFAULT_POSTGRES_URL);
  if (plan.use === "embedded") return startEmbedded(plan.why);
  if (plan.use === "given") {
    // As given, even when it does not answer: the PostgreSQL tests then fail and say why.
    const version = await serverVersion(plan.url).catch((err: Error) => `unreachable (${err.message})`);
    return say(`PostgreSQL ${version} at ${redactUrl(plan.url)} (TEND_TEST_POSTGRES_URL)`);
  }
  let missing: string;
  try {
    const version = await serverVersion(plan.url);
    process.env["TEND_TEST_POSTGRES_URL"] = plan.url;
    return say(`PostgreSQL ${version} at ${redactUrl(plan.url)} (answering there)`);
  } catch (err) {
    missing = (err as Error).message;
  }
  try {
    await startEmbedded(`nothing usable at ${redactUrl(plan.url)}: ${missing}`);
  } catch (err) {
    // The SQLite and pure tests still run; the PostgreSQL ones fail (or skip) and say why.
    say(
      `no PostgreSQL: nothing usable at ${redactUrl(plan.url)} (${missing}), and ${(err as Error).message}`,
    );
  }
}

export async function globalTeardown(): Promise<void> {
  const server = embedded;
  embedded = undefined;
  await server?.stop();
}
