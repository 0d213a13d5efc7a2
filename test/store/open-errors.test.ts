import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { openStore } from "../../src/store/index.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import {
  createTestDatabase,
  postgresUrl,
  requirePostgres,
  type TestDatabase,
  withDatabase,
} from "../support/postgres.ts";
import { makeTempDir } from "../support/tmp.ts";

/** Asserts a one-line TendError with `code` whose message matches every pattern. */
function fails(code: string, ...patterns: RegExp[]) {
  return (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.stack);
    assert.doesNotMatch(err.message, /\n/, "one line");
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

/** A TCP port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("opening a store: every failure is one line with a code, what was tried and what to do", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    tmp = await makeTempDir("tend-open-");
  });
  after(() => tmp.cleanup());

  it("SQLite: a missing file is not created when the caller asks not to", async () => {
    const path = join(tmp.dir, "wrong", "place.db");
    await assert.rejects(
      openStore(`sqlite:${path}`, { create: false }),
      fails("TEND_E_DATABASE_NOT_FOUND", new RegExp(path.replaceAll("/", "\\/")), /tend migrate/),
    );
    assert.equal(existsSync(join(tmp.dir, "wrong")), false, "neither the file nor its folder was created");
  });

  it("SQLite: a file that is not a database, or a folder, is refused with the path", async () => {
    const text = join(tmp.dir, "notes.txt");
    writeFileSync(text, "these are not the tables you are looking for\n".repeat(200));
    await assert.rejects(
      openStore(`sqlite:${text}`),
      fails("TEND_E_DATABASE_UNREADABLE", /notes\.txt/, /not a database/),
    );
    const folder = join(tmp.dir, "a-folder");
    mkdirSync(folder);
    await assert.rejects(openStore(`sqlite:${folder}`), fails("TEND_E_DATABASE_UNREADABLE", /a-folder/));
  });

  it("SQLite: a database without tend's tables is refused for reading, with the command that migrates it", async () => {
    const path = join(tmp.dir, "empty.db");
    new DatabaseSync(path).close();
    await assert.rejects(
      openStore(`sqlite:${path}`, { create: false, migrate: "verify" }),
      fails("TEND_E_DATABASE_NOT_MIGRATED", /empty\.db/, /tend migrate/),
    );
    const store = await openStore(`sqlite:${path}`);
    await store.close();
    const verified = await openStore(`sqlite:${path}`, { create: false, migrate: "verify" });
    await verified.close();
  });

  it("createApp({ log }): the store logs through the app's logger", async () => {
    const { log, lines } = captureLog();
    const app = createApp({ database: `sqlite:${join(tmp.dir, "app-log.db")}`, log });
    await app.store();
    await app.close();
    const applied = lines().find((l) => l["msg"] === "applied SQLite migrations");
    assert.equal(applied?.["part"], "store");
  });
});

const available = await requirePostgres();

describe(
  "opening a PostgreSQL store: every failure is one line with a code",
  { skip: available ? false : "PostgreSQL unreachable (TEND_SKIP_POSTGRES=1)" },
  () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase();
    });
    after(() => db?.drop());

    it("connection refused, with the URL (password hidden) and what to check", async () => {
      const url = `postgres://app:s3cret@127.0.0.1:${await closedPort()}/app`;
      await assert.rejects(
        openStore(url),
        (err: Error & { code?: string }) =>
          fails("TEND_E_STORE_UNREACHABLE", /refused/, /127\.0\.0\.1/, /app:\*\*\*@/)(err) &&
          !err.message.includes("s3cret"),
      );
    });

    it("an unknown host", async () => {
      await assert.rejects(
        openStore("postgres://app@tend-no-such-host.invalid:5432/app"),
        fails("TEND_E_STORE_UNREACHABLE", /tend-no-such-host\.invalid/, /resolve/),
      );
    });

    it("a missing database, and a refused login", async () => {
      await assert.rejects(
        openStore(withDatabase(postgresUrl(), "tend_no_such_database")),
        fails("TEND_E_DATABASE_NOT_FOUND", /tend_no_such_database/, /createdb/),
      );
      const noUser = new URL(postgresUrl());
      noUser.username = "tend_no_such_user";
      await assert.rejects(
        openStore(noUser.toString()),
        fails("TEND_E_STORE_AUTH_FAILED", /tend_no_such_user/),
      );
    });

    it("a schema without tend's tables is refused for reading; a migrated one opens", async () => {
      await assert.rejects(
        openStore(db.url, { schema: "nothing_here", migrate: "verify" }),
        fails("TEND_E_DATABASE_NOT_MIGRATED", /nothing_here/, /tend migrate/),
      );
      const store = await openStore(db.url, { migrate: "verify" });
      await store.close();
    });

    it("createApp: start fails with the code", async () => {
      const app = createApp({ database: `postgres://app@127.0.0.1:${await closedPort()}/app` });
      await assert.rejects(app.start(), fails("TEND_E_STORE_UNREACHABLE"));
      await app.close();
    });
  },
);
