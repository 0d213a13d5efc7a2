/**
 * The tend demo: one program with every part running on the embedded SQLite default.
 *
 * - jobs: a producer enqueues a greeting every 2 s; the handler sometimes fails, so you see
 *   retries with backoff; a cron schedule reports the queue's statistics every 10 s;
 * - a converger keeps the `note` table's word counts correct: edit a note with sqlite3 and watch
 *   it converge within a fraction of a second (and the inconsistency recorded once);
 * - an inbox: drop a .txt file into ./var/demo/inbox and its word count appears in ./var/demo/outbox.
 *
 * Press Ctrl-C (or send SIGTERM) for a graceful shutdown: in-flight jobs finish, unfinished ones go
 * back to the queue; press it again to exit at once.
 *
 *   npm start                      # pretty logs in a terminal
 *   TEND_LOG_PRETTY=0 npm start    # JSON lines
 *   sqlite3 var/demo/tend.db "UPDATE note SET body = 'a b c' WHERE id = 1"   # 3 words: the converger fixes the count
 *   npx tend jobs stats --database sqlite:./var/demo/tend.db
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { createApp, every } from "../../src/index.ts";

const varDir = join(process.cwd(), "var", "demo");
mkdirSync(varDir, { recursive: true });
const database = process.env["TEND_DATABASE_URL"] ?? `sqlite:${join(varDir, "tend.db")}`;

// The application's own table, beside tend's (which live under the tend_ prefix).
if (database.startsWith("sqlite:")) {
  const db = new DatabaseSync(join(varDir, "tend.db"), { timeout: 10_000 });
  db.exec(`CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, word_count INTEGER)`);
  db.exec(`INSERT OR IGNORE INTO note (id, body) VALUES (1, 'tend keeps state correct'), (2, 'hello world')`);
  db.close();
}

const app = createApp({ database, shutdownTimeout: "10s" });
const names = ["Ada", "Grace", "Edsger", "Barbara", "Ken", "Radia"];

app.job(
  "greet",
  async ({ payload, attempt, signal, log }) => {
    const { name } = payload as { name: string };
    await sleep(100 + Math.random() * 400, undefined, { signal });
    if (Math.random() < 0.25) throw new Error(`the greeting service is flaky (attempt ${attempt})`);
    log.info({ person: name, attempt }, `hello, ${name}`);
    return { greeting: `hello, ${name}` };
  },
  { maxAttempts: 4, backoff: { base: "500ms" } },
);

app.job("queue.report", async ({ log }) => {
  for (const s of await app.jobs.stats()) {
    log.info(
      {
        queue: s.queue,
        available: s.available,
        running: s.running,
        retryable: s.retryable,
        completedPerSec: s.completedPerSec,
      },
      "queue report",
    );
  }
});
app.cron("*/10 * * * * *", "queue.report", {}, { name: "demo.queue-report" });

app.task(
  every("2s", async function produceGreetings() {
    await app.enqueue("greet", { name: names[Math.floor(Math.random() * names.length)] });
  }),
);

app.converger({
  name: "note-word-counts",
  every: "30s",
  wakeOn: ["note"],
  find: async (ctx) =>
    (await ctx.sql("SELECT id, body, word_count FROM note")).filter(wrongCount).map((r) => String(r["id"])),
  converge: async (id, ctx) => {
    const [note] = await ctx.sql("SELECT id, body, word_count FROM note WHERE id = $1", [id]);
    if (note === undefined || !wrongCount(note)) return undefined;
    const words = countWords(String(note["body"]));
    await ctx.sql("UPDATE note SET word_count = $2 WHERE id = $1", [id, words]);
    return { changed: { wordCount: { from: note["word_count"], to: words } } };
  },
});

const inboxDir = join(varDir, "inbox");
app.inbox({
  dir: inboxDir,
  outDir: join(varDir, "outbox"),
  match: "*.txt",
  process: async (file, ctx) => {
    const text = await readFile(file.path, { encoding: "utf8", signal: ctx.signal });
    await ctx.writeOutput(
      `${file.name}.json`,
      JSON.stringify({ file: file.name, words: countWords(text) }, null, 2),
    );
  },
});

// Drop a sample file the way producers should: write under a dot name, then rename into the inbox.
app.ephemeral(async function dropSampleFile() {
  mkdirSync(inboxDir, { recursive: true });
  const tmp = join(inboxDir, `.sample-${process.pid}.txt`);
  writeFileSync(tmp, "the quick brown fox jumps over the lazy dog\n");
  renameSync(tmp, join(inboxDir, `sample-${Date.now()}.txt`));
});

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => w.length > 0).length;
}

function wrongCount(row: Record<string, unknown>): boolean {
  return row["word_count"] === null || Number(row["word_count"]) !== countWords(String(row["body"]));
}

await app.main();
