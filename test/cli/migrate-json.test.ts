import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TEND_VERSION } from "../../src/store/index.ts";
import { makeTempDir } from "../support/tmp.ts";
import { tend } from "./helpers.ts";

describe("tend migrate --json (real processes running bin/tend.js)", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    tmp = await makeTempDir("tend-cli-migrate-json-");
  });
  after(() => tmp.cleanup());

  it("prints what it applied as one JSON object, and an empty list once up to date", async () => {
    const url = `sqlite:${join(tmp.dir, "tend.db")}`;
    const first = await tend("migrate", "--json", "-d", url);
    assert.equal(first.code, 0, first.stderr);
    const applied = JSON.parse(first.stdout) as { database: string; code: string; applied: string[] };
    assert.equal(applied.database, url);
    assert.equal(applied.code, TEND_VERSION);
    assert.ok(applied.applied.length > 0 && applied.applied.every((name) => typeof name === "string"));
    const status = JSON.parse((await tend("migrate", "--status", "--json", "-d", url)).stdout) as {
      migrations: Array<{ name: string; state: string }>;
    };
    assert.deepEqual(
      applied.applied.toSorted(),
      status.migrations.map((m) => m.name).toSorted(),
      "every migration --status lists as applied",
    );
    const again = await tend("migrate", "--json", "-d", url);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { database: url, code: TEND_VERSION, applied: [] });
  });
});
