import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Backend, createBackend } from "../support/backends.ts";
import { type CorruptRows, seedCorruptRows } from "./corrupt-job-rows.ts";
import { tend } from "./helpers.ts";

/** The table row of `tend jobs list` for one id (its columns split on runs of spaces). */
function rowOf(stdout: string, id: string): string {
  const line = stdout.split("\n").find((l) => l.split(/\s+/)[0] === id);
  assert.ok(line !== undefined, `no row for job ${id} in:\n${stdout}`);
  return line;
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`tend jobs list/show with one corrupt job row on ${driver} (a real child process)`, () => {
    let backend: Backend | null = null;
    let rows: CorruptRows;
    before(async () => {
      backend = await createBackend(driver);
      if (backend !== null) rows = await seedCorruptRows(backend);
    });
    after(() => backend?.cleanup());

    it("jobs list marks an error entry without a message and an invalid time, and lists every other job", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const out = await tend("jobs", "list", "--database", backend.url);
      assert.equal(out.stderr, "");
      assert.equal(out.code, 0);
      assert.match(rowOf(out.stdout, rows.noMessage), /\(malformed error entry\)$/);
      assert.match(rowOf(out.stdout, rows.mixed), /real failure$/);
      assert.match(rowOf(out.stdout, rows.badTimes), /\(invalid time\)/);
      assert.match(
        rowOf(out.stdout, rows.good),
        /corrupt\.rows\s+default\s+available\s+0\/\d+\s+\d{4}-\d\d-\d\dT/,
      );
      assert.doesNotMatch(out.stdout, /undefined/);

      const json = await tend("jobs", "list", "--database", backend.url, "--json");
      assert.equal(json.code, 0);
      const listed = JSON.parse(json.stdout) as Array<{
        id: string;
        runAt: string | null;
        createdAt: string | null;
      }>;
      assert.deepEqual(listed.map((j) => j.id).sort(), Object.values(rows).sort());
      const bad = listed.find((j) => j.id === rows.badTimes)!;
      assert.equal(bad.runAt, null);
      assert.equal(bad.createdAt, null);
    });

    it("jobs show prints a malformed error entry as such, and the job's well-formed errors in full", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const one = await tend("jobs", "show", rows.noMessage, "--database", backend.url);
      assert.equal(one.stderr, "");
      assert.equal(one.code, 0);
      assert.match(one.stdout, /^error \(attempt 1, -\): \(malformed error entry: \{"attempt":1\}\)$/m);
      assert.doesNotMatch(one.stdout, /undefined/);

      const mixed = await tend("jobs", "show", rows.mixed, "--database", backend.url);
      assert.equal(mixed.stderr, "");
      assert.equal(mixed.code, 0);
      const errorLines = mixed.stdout.split("\n").filter((l) => l.startsWith("error "));
      assert.deepEqual(errorLines, [
        "error (attempt ?, -): (malformed error entry: 1)",
        "error (attempt ?, -): (malformed error entry: null)",
        'error (attempt ?, -): (malformed error entry: "x")',
        "error (attempt 2, 2026-01-02T03:04:05.000Z) TEND_E_X: real failure",
      ]);
    });

    it("jobs show prints a time no Date can hold as (invalid time) and the rest of the job", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const out = await tend("jobs", "show", rows.badTimes, "--database", backend.url);
      assert.equal(out.stderr, "");
      assert.equal(out.code, 0);
      assert.match(out.stdout, /^created \(invalid time\) {2}run at \(invalid time\)$/m);
      assert.match(out.stdout, /^started \(invalid time\) {2}finished \(invalid time\)$/m);
      assert.match(
        out.stdout,
        new RegExp(`^job ${rows.badTimes} {2}corrupt\\.rows {2}\\[available\\]$`, "m"),
      );
      assert.match(out.stdout, /^payload \{"i":3\}$/m);
    });
  });
}
