import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { createLogger } from "../../src/log/index.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { tend } from "./helpers.ts";

/**
 * SQLite stores 64-bit integers and node:sqlite refuses to read one beyond 2^53 into a number.
 * One row changed outside tend to hold such a value must not break what an operator reads: the
 * list, the job itself, the stats and the activity series.
 */
describe("tend jobs list/show/stats with integers beyond 2^53 in a SQLite row (a real child process)", () => {
  let backend: Backend;
  let ids: string[];
  before(async () => {
    backend = (await createBackend("sqlite"))!;
    const app = createApp({
      database: backend.url,
      log: createLogger({ level: "silent" }),
      jobs: { queues: {} },
    });
    try {
      ids = [];
      for (let i = 0; i < 3; i++) ids.push((await app.enqueue("wide.ints", { i })).id);
    } finally {
      await app.close();
    }
    const db = new DatabaseSync(backend.url.slice("sqlite:".length));
    try {
      // 2^53 + 1 and 2^53 + 3: no JavaScript number holds either exactly.
      db.prepare("UPDATE tend_jobs SET attempt = 9007199254740993 WHERE id = ?").run(Number(ids[2]));
      db.prepare("UPDATE tend_jobs SET created_at = 9007199254740995 WHERE id = ?").run(Number(ids[1]));
    } finally {
      db.close();
    }
  });
  after(() => backend.cleanup());

  it("jobs list lists every job, the wide attempt as the nearest number", async () => {
    const out = await tend("jobs", "list", "--database", backend.url);
    assert.equal(out.stderr, "");
    assert.equal(out.code, 0);
    const listed = out.stdout.split("\n").map((l) => l.split(/\s+/)[0]);
    for (const id of ids) assert.ok(listed.includes(id), `job ${id} missing from:\n${out.stdout}`);
    assert.match(
      out.stdout,
      new RegExp(`^${ids[2]}\\s+wide\\.ints\\s+default\\s+available\\s+9007199254740992/`, "m"),
    );
  });

  it("jobs show prints a creation time no Date can hold as (invalid time), and the rest of the job", async () => {
    const out = await tend("jobs", "show", ids[1]!, "--database", backend.url);
    assert.equal(out.stderr, "");
    assert.equal(out.code, 0);
    assert.match(out.stdout, /^created \(invalid time\) {2}run at \d{4}-/m);
    assert.match(out.stdout, /^payload \{"i":1\}$/m);
  });

  // The stats read the creation time of a job in the middle of the id range (the first job of
  // the last minute is found by bisection).
  it("jobs stats counts the queue's jobs", async () => {
    const out = await tend("jobs", "stats", "--database", backend.url, "--json");
    assert.equal(out.stderr, "");
    assert.equal(out.code, 0);
    const stats = JSON.parse(out.stdout) as Array<{ queue: string; available: number }>;
    assert.equal(stats.find((s) => s.queue === "default")?.available, 3);
  });
});
