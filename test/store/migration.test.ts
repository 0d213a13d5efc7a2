import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Migration, pendingMigrations } from "../../src/store/migration.ts";

const m = (component: string, version: number): Migration => ({
  component,
  version,
  name: `${component} ${version}`,
  sql: "",
});

describe("pendingMigrations", () => {
  it("returns what is not applied, by component then version", () => {
    const all = [m("jobs", 2), m("converge", 1), m("jobs", 1)];
    assert.deepEqual(
      pendingMigrations(all, [{ component: "jobs", version: 1 }]).map((x) => x.name),
      ["converge 1", "jobs 2"],
    );
    assert.deepEqual(pendingMigrations(all, all), []);
  });

  it("refuses a duplicate or a gap with TEND_E_MIGRATION_FAILED", () => {
    assert.throws(() => pendingMigrations([m("jobs", 1), m("jobs", 1)], []), {
      code: "TEND_E_MIGRATION_FAILED",
    });
    assert.throws(
      () => pendingMigrations([m("jobs", 1), m("jobs", 3)], []),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "TEND_E_MIGRATION_FAILED");
        assert.match(err.message, /expected version 2, found 3/);
        return true;
      },
    );
  });
});
