import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { LISTEN_BACKOFF, reconnectDelay } from "../../src/store/postgres/backoff.ts";
import { quoteIdent, validateSchema } from "../../src/store/postgres/identifiers.ts";
import { claimBucket } from "../../src/store/postgres/leases.ts";
import { physicalChannel } from "../../src/store/postgres/notifier.ts";
import { compareIds } from "../../src/store/postgres/rows.ts";
import { DEFAULT_TIMEOUTS, postgresSettings } from "../../src/store/postgres/settings.ts";
import { redactUrl } from "../../src/store/postgres/url.ts";

/** Pure parts of the PostgreSQL driver (no database needed). */
describe("PostgreSQL driver: pure parts", () => {
  it("backs off exponentially with jitter, capped", () => {
    const b = { baseMs: 100, capMs: 10_000 };
    assert.equal(
      reconnectDelay(1, b, () => 0),
      50,
    );
    assert.equal(
      reconnectDelay(1, b, () => 0.999999),
      100,
    );
    assert.equal(
      reconnectDelay(2, b, () => 0),
      100,
    );
    assert.equal(
      reconnectDelay(4, b, () => 0),
      400,
    );
    for (let attempt = 1; attempt < 100; attempt++) {
      const d = reconnectDelay(attempt, LISTEN_BACKOFF, Math.random);
      assert.ok(d >= 50 && d <= LISTEN_BACKOFF.capMs, `attempt ${attempt}: ${d}`);
    }
    assert.ok(reconnectDelay(50, b, () => 0) >= 5_000, "late attempts stay near the cap");
  });

  it("validates schema names and quotes identifiers", () => {
    assert.equal(validateSchema("tend"), "tend");
    assert.equal(validateSchema("_app_2"), "_app_2");
    for (const bad of ["Tend", "1abc", "a-b", "a b", 'x"; DROP TABLE y; --', "", "a".repeat(49), 7, null]) {
      assert.throws(
        () => validateSchema(bad),
        (err: unknown) => isTendError(err, "TEND_E_INVALID_SCHEMA"),
      );
    }
    assert.equal(quoteIdent('we"ird'), '"we""ird"');
  });

  it("maps logical channels to per-schema channels and rejects unusable names", () => {
    assert.equal(physicalChannel("tend", "jobs"), "tend.jobs");
    assert.equal(physicalChannel("tend", "custom-channel:1"), "tend.custom-channel:1");
    for (const bad of ["", "with space", 'quote"', "x".repeat(60)]) {
      assert.throws(
        () => physicalChannel("tend", bad),
        (err: unknown) => isTendError(err, "TEND_E_INVALID_CHANNEL"),
      );
    }
  });

  it("gives a claim a constant scan limit at most a third above it", () => {
    const expected: Array<[number, number]> = [
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 6],
      [7, 8],
      [13, 16],
      [96, 96],
      [97, 128],
      [110, 128],
      [450, 512],
      [9_000, 10_000],
      [10_000, 10_000],
    ];
    for (const [limit, bucket] of expected) assert.equal(claimBucket(limit), bucket, `limit ${limit}`);
    for (let limit = 1; limit <= 10_000; limit++) {
      const b = claimBucket(limit);
      assert.ok(b >= limit && b <= Math.max(limit * 1.5, 2), `limit ${limit} -> ${b}`);
    }
  });

  it("compares decimal ids numerically", () => {
    assert.ok(compareIds("9", "10") < 0 && compareIds("10", "10") === 0 && compareIds("11", "10") > 0);
  });

  it("removes passwords from URLs", () => {
    assert.equal(redactUrl("postgres://app:secret@db:5432/app"), "postgres://app:***@db:5432/app");
    assert.equal(redactUrl("postgres://app@db/app"), "postgres://app@db/app");
  });

  it("reads timeouts from the URL and the options (options win), and takes them out of the URL", () => {
    assert.deepEqual(postgresSettings("postgres://db/app", undefined), {
      url: "postgres://db/app",
      timeouts: DEFAULT_TIMEOUTS,
    });
    const { url, timeouts } = postgresSettings(
      "postgres://u:p@db/app?sslmode=require&connect_timeout=2&statement_timeout=1500&lock_timeout=2s&worker_statement_timeout=3s&idle_in_transaction_session_timeout=1m",
      { lock: 250 },
    );
    assert.equal(url, "postgres://u:p@db/app?sslmode=require");
    assert.deepEqual(timeouts, {
      connectMs: 2_000,
      statementMs: 1_500,
      workerMs: 3_000,
      lockMs: 250,
      idleInTransactionMs: 60_000,
    });
    assert.equal(
      postgresSettings("postgres://db/app?statement_timeout=5s", undefined).url,
      "postgres://db/app",
    );
    assert.throws(() => postgresSettings("postgres://db/app?lock_timeout=soon", undefined), {
      code: "TEND_E_INVALID_POSTGRES_OPTION",
    });
    assert.throws(() => postgresSettings("postgres://db/app", { statement: 0 }), {
      code: "TEND_E_INVALID_POSTGRES_OPTION",
    });
    assert.throws(() => postgresSettings("postgres://db/app", { statment: "1s" } as never), {
      code: "TEND_E_UNKNOWN_OPTION",
    });
  });
});
