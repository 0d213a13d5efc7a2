import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { busyRetryDelay, isBusy } from "../../src/store/sqlite/lock-wait.ts";

describe("SQLite lock waiting (pure parts)", () => {
  it("recognises SQLITE_BUSY and its extended codes only", () => {
    assert.equal(isBusy({ errcode: 5 }), true);
    assert.equal(isBusy({ errcode: 517 }), true, "SQLITE_BUSY_SNAPSHOT");
    assert.equal(isBusy({ errcode: 6 }), false, "SQLITE_LOCKED is another matter");
    assert.equal(isBusy(new Error("database is locked")), false);
    assert.equal(isBusy(null), false);
  });

  it("backs off from 1 ms to at most 16 ms, with jitter in [0.5, 1.5)", () => {
    assert.equal(busyRetryDelay(1, 0.5), 1);
    assert.equal(busyRetryDelay(2, 0.5), 2);
    assert.equal(busyRetryDelay(5, 0.5), 16);
    assert.equal(busyRetryDelay(50, 0.5), 16);
    assert.equal(busyRetryDelay(1, 0), 0.5);
    assert.ok(busyRetryDelay(5, 0.999) < 24);
  });
});
