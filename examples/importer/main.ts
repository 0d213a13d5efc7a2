/**
 * The importer: CSV files dropped into ./var/inbox become JSON summaries (row count, column names,
 * numeric column sums) in ./var/outbox. Inputs end in ./var/inbox/done, or in ./var/inbox/failed
 * with an .error.json sidecar when they are malformed. Stop it with Ctrl-C or SIGTERM: files in
 * flight finish first.
 *
 *   node examples/importer/main.ts
 *   printf 'id,amount\n1,2.5\n2,4\n' > var/inbox/.orders.csv && mv var/inbox/.orders.csv var/inbox/orders.csv
 *
 * Settings (environment): IMPORTER_INBOX, IMPORTER_OUTBOX, IMPORTER_CONCURRENCY, IMPORTER_SETTLE
 * (settle time for producers that write in place: "1s" by default, a
 * plain number is milliseconds; 0 when every producer renames files in).
 */
import { createReadStream } from "node:fs";
import { createInbox } from "../../src/inbox/index.ts";
import { main } from "../../src/lifecycle/index.ts";
import { outputNameFor, summarizeCsv } from "./summarize.ts";

const settle = process.env["IMPORTER_SETTLE"] ?? "1s";

await main((manager, log) => {
  const importer = createInbox(
    {
      name: "importer",
      dir: process.env["IMPORTER_INBOX"] ?? "./var/inbox",
      outDir: process.env["IMPORTER_OUTBOX"] ?? "./var/outbox",
      match: "*.csv",
      concurrency: Number(process.env["IMPORTER_CONCURRENCY"] ?? "2"),
      settle: /^\d+$/.test(settle) ? Number(settle) : settle, // plain numbers are milliseconds
      retries: 1,
      drainTimeout: "20s",
      process: async (file, ctx) => {
        const summary = await summarizeCsv(
          file.name,
          createReadStream(file.path, { encoding: "utf8", signal: ctx.signal }) as AsyncIterable<string>,
        );
        await ctx.writeOutput(outputNameFor(file.name), `${JSON.stringify(summary, null, 2)}\n`);
        ctx.log.info({ rows: summary.rows, columns: summary.columns.length }, "csv summarized");
      },
    },
    { log },
  );
  manager.run(importer);
});
