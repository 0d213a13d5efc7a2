import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { displayWidth } from "../../src/cli/display-width.ts";
import { claimOne, insertOne, jobError } from "../conformance/job-store/helpers.ts";
import { sqliteStoreForSuite, tend } from "./helpers.ts";

const MESSAGE = "upstream said:\nline two\r\n\tindented 日本語";
const ESCAPED = "upstream said:\\nline two\\r\\n\\tindented 日本語";

/** The terminal column where `cell` starts on `line`. */
function columnOf(line: string, cell: string): number {
  const at = line.indexOf(cell);
  assert.ok(at >= 0, `${JSON.stringify(cell)} not on ${JSON.stringify(line)}`);
  return displayWidth(line.slice(0, at));
}

describe("tend tables with control characters in their cells (real processes running bin/tend.js)", () => {
  const suite = sqliteStoreForSuite("tend-cli-tables-");
  before(async () => {
    const { store } = suite;
    for (const message of [MESSAGE, "short"]) {
      await insertOne(store, { queue: "tables", kind: "mail.send" });
      const lease = await claimOne(store, { queue: "tables" });
      await store.jobs.fail([{ ...lease, error: jobError(1, message), retryAt: null }]);
    }
    await store.converge.recordTerminal(
      "billing-sync",
      "multi\nline key",
      null,
      "no plan:\nask\tsales",
      null,
    );
    await store.converge.recordTerminal("billing-sync", "acct-2", "v7", "gone", null);
    await store.converge.recordInconsistencies(
      "billing-sync",
      [{ key: "a\r\nb", changes: { fixed: 1 } }],
      null,
    );
  });

  it("tend jobs list -s discarded keeps each job on one line, its error escaped, columns aligned", async () => {
    const r = await tend("jobs", "list", "-s", "discarded", "-q", "tables", "-d", suite.url);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4, r.stdout); // header, rule, two jobs
    const header = lines[0] ?? "";
    const multi = lines.find((l) => l.includes("upstream")) ?? "";
    const short = lines.find((l) => l.endsWith("short")) ?? "";
    assert.equal(multi.slice(multi.indexOf("upstream")), ESCAPED);
    assert.equal(columnOf(multi, "upstream"), columnOf(header, "last error"));
    assert.equal(columnOf(short, "short"), columnOf(header, "last error"));
  });

  it("tend jobs list --json still prints the error as stored", async () => {
    const r = await tend("jobs", "list", "-s", "discarded", "-q", "tables", "--json", "-d", suite.url);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ errors: Array<{ message: string }> }>;
    assert.deepEqual(
      rows.map((j) => j.errors.at(-1)?.message),
      ["short", MESSAGE],
    );
  });

  it("tend converge keys list keeps a key and a message with line breaks on one line", async () => {
    const r = await tend("converge", "keys", "list", "-d", suite.url);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4, r.stdout);
    const header = lines[0] ?? "";
    const parked = lines.find((l) => l.includes("multi\\nline key")) ?? "";
    assert.match(parked, /no plan:\\nask\\tsales$/);
    const other = lines.find((l) => l.includes("acct-2")) ?? "";
    for (const [line, version] of [
      [parked, "-"],
      [other, "v7"],
    ] as const)
      assert.equal(columnOf(line, `  ${version}  `) + 2, columnOf(header, "version"), line);
    const json = await tend("converge", "keys", "list", "--json", "-d", suite.url);
    const keys = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { key: string; message: string });
    assert.ok(keys.some((k) => k.key === "multi\nline key" && k.message === "no plan:\nask\tsales"));
  });

  it("tend inconsistencies prints a key with a line break on its one line", async () => {
    const r = await tend("inconsistencies", "-d", suite.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\S+ {2}billing-sync {2}a\\r\\nb {2}\{"fixed":1\}\n$/);
  });
});
