import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { CsvError, outputNameFor, summarizeCsv } from "../../examples/importer/summarize.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { type Child, killChild, spawnFixture } from "./fixtures/spawn.ts";
import { drop, list } from "./helpers.ts";

const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) await killChild(c);
  for (const c of cleanups.reverse()) await c();
});

test("summarizeCsv: rows, columns, sums of numeric columns, quoting, CRLF", async () => {
  const csv = 'id,name,amount,note\r\n1,"Smith, J",2.5,"said ""hi"""\r\n2,Lee,4,"two\nlines"\r\n3,Kim,,x\r\n';
  assert.deepEqual(await summarizeCsv("a.csv", [csv]), {
    source: "a.csv",
    rows: 3,
    columns: ["id", "name", "amount", "note"],
    sums: { id: 6, amount: 6.5 },
  });
  // Chunk boundaries anywhere give the same result.
  const chars = [...csv];
  assert.deepEqual(await summarizeCsv("a.csv", chars), await summarizeCsv("a.csv", [csv]));
  assert.deepEqual((await summarizeCsv("h.csv", ["x,y\n"])).rows, 0);
});

test("summarizeCsv: malformed files throw a CsvError naming the line", async () => {
  await assert.rejects(summarizeCsv("e.csv", [""]), CsvError);
  await assert.rejects(
    summarizeCsv("r.csv", ["a,b\n1,2\n3\n"]),
    /row has 1 fields, the header has 2 \(line 3\)/,
  );
  await assert.rejects(summarizeCsv("q.csv", ['a,b\n1,"open\n']), /unterminated quoted field \(line 2\)/);
});

test("outputNameFor: a safe .json name for any input name", () => {
  assert.equal(outputNameFor("orders.csv"), "orders.json");
  assert.equal(outputNameFor("bad\nname.CSV"), "bad_name.json");
  assert.equal(outputNameFor("a\\b.csv"), "a_b.json");
  assert.ok(Buffer.byteLength(outputNameFor(`${"x".repeat(250)}.csv`)) <= 255);
});

test("the importer example turns dropped CSV files into JSON summaries and stops cleanly on SIGTERM", async () => {
  const t = await makeTempDir("tend-importer-");
  cleanups.push(t.cleanup);
  const inbox = join(t.dir, "var", "inbox");
  await mkdir(inbox, { recursive: true });
  const child = spawnFixture(
    resolve(import.meta.dirname, "../../examples/importer/main.ts"),
    { IMPORTER_SETTLE: "0" },
    t.dir,
  );
  children.push(child);
  await child.waitForLine("inbox started");
  await drop(inbox, "orders.csv", "id,amount\n1,2.5\n2,4\n");
  await drop(inbox, "broken.csv", "id,amount\n1\n");
  await drop(inbox, "notes.txt", "not a csv");
  const outbox = join(t.dir, "var", "outbox");
  await waitFor(async () => (await list(outbox)).includes("orders.json"), { message: "orders.json" });
  await waitFor(async () => (await list(join(inbox, "failed"))).length === 2, {
    message: "broken.csv failed",
  });
  assert.deepEqual(JSON.parse(await readFile(join(outbox, "orders.json"), "utf8")), {
    source: "orders.csv",
    rows: 2,
    columns: ["id", "amount"],
    sums: { id: 3, amount: 6.5 },
  });
  const sidecar = JSON.parse(await readFile(join(inbox, "failed", "broken.csv.error.json"), "utf8"));
  assert.equal(sidecar.error.name, "CsvError");
  assert.ok((await list(inbox)).includes("notes.txt"), "names that do not match *.csv are left alone");
  child.proc.kill("SIGTERM");
  assert.equal(await child.exited, 0);
  await child.waitForLine("clean shutdown");
});
