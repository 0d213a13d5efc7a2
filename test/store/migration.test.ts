import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { codeAccepts, TEND_VERSION } from "../../src/store/code-version.ts";
import {
  type AppliedMigration,
  checkSchemaNotTooNew,
  type Migration,
  migrationStatusRows,
  pendingMigrations,
} from "../../src/store/migration.ts";

const m = (component: string, version: number): Migration => ({
  component,
  version,
  name: `${component} ${version}`,
  compatibleFrom: "0.1.0",
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

describe("rollback checks", () => {
  const row = (component: string, version: number, compatibleFrom: string | null): AppliedMigration => ({
    component,
    version,
    name: `${component} ${version}`,
    compatibleFrom,
    appliedAt: 0,
  });

  it("TEND_VERSION is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(TEND_VERSION, pkg.version);
  });

  it("codeAccepts compares major.minor.patch and refuses what it cannot read", () => {
    assert.equal(codeAccepts("0.1.0", "0.1.0"), true);
    assert.equal(codeAccepts("0.2.0", "0.1.9"), true);
    assert.equal(codeAccepts("1.0.0", "0.9.9"), true);
    assert.equal(codeAccepts("0.1.0", "0.1.1"), false);
    assert.equal(codeAccepts("0.1.0", "1.0.0"), false);
    assert.equal(codeAccepts("0.1.0", "soon"), false);
  });

  it("unknown migrations that declare this version start (returned); others are TEND_E_SCHEMA_TOO_NEW naming them", () => {
    const all = [m("jobs", 1), m("jobs", 2)];
    const applied = [row("jobs", 1, "0.1.0"), row("jobs", 2, "0.1.0"), row("jobs", 3, "0.1.0")];
    assert.deepEqual(
      checkSchemaNotTooNew(all, applied, { url: "sqlite:x" }, "0.1.0").map((r) => r.version),
      [3],
    );
    assert.throws(
      () =>
        checkSchemaNotTooNew(
          all,
          [...applied, row("jobs", 4, "0.2.0"), row("x", 1, null)],
          { url: "sqlite:x" },
          "0.1.0",
        ),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "TEND_E_SCHEMA_TOO_NEW");
        assert.match(err.message, /jobs 4 \(jobs 4, needs tend >= 0\.2\.0\)/);
        assert.match(err.message, /x 1 /);
        assert.doesNotMatch(err.message, /jobs 3/);
        return true;
      },
    );
  });

  it("migrationStatusRows lists applied, pending and unknown", () => {
    const rows = migrationStatusRows(
      [m("jobs", 1), m("jobs", 2)],
      [row("jobs", 1, null), row("jobs", 3, "0.1.0")],
    );
    assert.deepEqual(
      rows.map((r) => `${r.version}:${r.state}`),
      ["1:applied", "2:pending", "3:unknown"],
    );
    assert.deepEqual(
      migrationStatusRows([m("jobs", 1)], null).map((r) => r.state),
      ["pending"],
    );
  });
});
