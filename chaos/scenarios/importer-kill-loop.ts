/**
 * Scenario 2: the importer SIGKILLed every second under slow writers.
 *
 * Two importer processes (fixtures/importer.ts: a tend inbox, concurrency 4) share one inbox
 * folder; WRITERS writer processes (fixtures/slow-writer.ts) drop FILES files (2,000; smoke 100)
 * into it following the producer protocol, slowly. Every second one importer, picked at random, is
 * SIGKILLed and started again at once. Once every file has been placed the kills stop, the
 * importers are stopped cleanly (SIGTERM) and the folders are checked.
 *
 * Verdict: 0 lost (every input in done/ or failed/ exactly once), 0 failed (every input is valid),
 * 0 partial outputs (each output complete, valid JSON, and the summary of its input in done/),
 * 0 missing outputs, and 0 stray files after the clean stop (temporary outputs, claim folders,
 * anything left in the inbox).
 *
 *   node chaos/scenarios/importer-kill-loop.ts [--smoke]
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "../../test/support/wait.ts";
import { sha256 } from "../support/inbox-files.ts";
import { killLoop } from "../support/kill-loop.ts";
import type { Child } from "../support/processes.ts";
import { runScenario, sleep } from "../support/scenario.ts";

const IMPORTER = join(import.meta.dirname, "..", "fixtures", "importer.ts");
const WRITER = join(import.meta.dirname, "..", "fixtures", "slow-writer.ts");

/** `name` as the inbox stores it when the name was taken: `stem~N.ext` back to `stem.ext`. */
function originalName(stored: string): string {
  return stored.replace(/~\d+(\.[^.]*)?$/, "$1");
}

await runScenario("importer-kill-loop", "files", async (ctx) => {
  const writers = 4;
  const perWriter = ctx.smoke ? 25 : 500;
  const total = writers * perWriter;
  const importers = 2;
  const inbox = join(ctx.dir, "inbox");
  const out = join(ctx.dir, "out");
  const stage = join(ctx.dir, "stage");
  const markers = join(ctx.dir, "markers");
  for (const d of [inbox, out, stage, markers]) await mkdir(d, { recursive: true });
  const done = join(inbox, "done");
  const failed = join(inbox, "failed");
  const listNames = async (d: string) => (existsSync(d) ? await readdir(d) : []);
  const placed = async () =>
    (await listNames(done)).length +
    (await listNames(failed)).filter((n) => !n.endsWith(".error.json")).length;

  const startImporter = (): Child =>
    ctx.procs.spawn("importer", IMPORTER, {
      env: { CHAOS_INBOX: inbox, CHAOS_OUT: out, CHAOS_MARKERS: markers },
    });
  const fleet = Array.from({ length: importers }, startImporter);
  const writerProcs = Array.from({ length: writers }, (_, w) =>
    ctx.procs.spawn("writer", WRITER, {
      env: {
        CHAOS_INBOX: inbox,
        CHAOS_STAGE: stage,
        CHAOS_WRITER: String(w),
        CHAOS_COUNT: String(perWriter),
        CHAOS_PARALLEL: ctx.smoke ? "1" : "2",
      },
    }),
  );
  const { kills } = await killLoop(ctx, fleet, startImporter, {
    everyMs: 1_000,
    deadlineMs: ctx.smoke ? 60_000 : 900_000,
    remaining: async () => total - (await placed()),
    what: "files to place",
  });
  let count = await placed();
  const writerExits = await Promise.all(writerProcs.map((w) => w.exited));
  // Without kills the rest must finish promptly.
  const graceEnd = Date.now() + 20_000;
  while (count < total && Date.now() < graceEnd) {
    await sleep(200);
    count = await placed();
  }
  // A SIGTERM before main() installed its handlers would kill a booting importer outright.
  await waitFor(() => fleet.every((c) => existsSync(join(markers, `ready-${c.pid}`))), {
    timeoutMs: 30_000,
    intervalMs: 100,
    message: "every importer up before the final SIGTERM",
  });
  await Promise.all(fleet.map((c) => ctx.procs.kill(c, "SIGTERM")));
  const importerExits = await Promise.all(fleet.map((c) => c.exited));

  // Every expected input, once, in done/ or failed/.
  const expected = new Set<string>();
  for (let w = 0; w < writers; w++) {
    for (let i = 0; i < perWriter; i++) expected.add(`w${w}-${String(i).padStart(5, "0")}.txt`);
  }
  const placements = new Map<string, number>();
  const doneNames = await listNames(done);
  const failedNames = (await listNames(failed)).filter((n) => !n.endsWith(".error.json"));
  for (const stored of [...doneNames, ...failedNames]) {
    const name = originalName(stored);
    placements.set(name, (placements.get(name) ?? 0) + 1);
  }
  let lost = 0;
  let duplicated = 0;
  const notes: string[] = [];
  for (const name of expected) {
    const n = placements.get(name) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated++;
  }
  const unexpected = [...placements.keys()].filter((n) => !expected.has(n));
  if (lost > 0) notes.push(`${lost} input(s) in neither done/ nor failed/`);
  if (duplicated > 0) notes.push(`${duplicated} input(s) placed more than once`);
  if (unexpected.length > 0) notes.push(`unexpected names placed: ${unexpected.slice(0, 5).join(", ")}`);
  for (const name of failedNames.slice(0, 3)) {
    const sidecar = await readFile(join(failed, `${name}.error.json`), "utf8").catch(() => "{}");
    const reason = (JSON.parse(sidecar) as { error?: { message?: string } }).error?.message ?? "?";
    notes.push(`failed: ${name}: ${reason}`);
  }

  // Outputs: each complete, valid, and matching its input in done/.
  const outNames = await readdir(out);
  const tempOutputs = outNames.filter((n) => n.startsWith("."));
  let partialOutputs = 0;
  let missingOutputs = 0;
  const outputs = new Set(outNames.filter((n) => !n.startsWith(".")));
  for (const stored of doneNames) {
    const name = originalName(stored);
    if (!outputs.has(`${name}.json`)) {
      missingOutputs++;
      continue;
    }
    const input = await readFile(join(done, stored));
    const text = await readFile(join(out, `${name}.json`), "utf8");
    try {
      const summary = JSON.parse(text) as { name: string; sha256: string; size: number };
      if (summary.name !== name || summary.sha256 !== sha256(input) || summary.size !== input.length) {
        partialOutputs++;
        if (partialOutputs <= 3) notes.push(`output of ${name} does not match its input`);
      }
    } catch {
      partialOutputs++;
      if (partialOutputs <= 3) notes.push(`output of ${name} is not valid JSON (${text.length} bytes)`);
    }
  }
  if (partialOutputs > 0) notes.push(`${partialOutputs} partial or wrong output(s)`);
  if (missingOutputs > 0) notes.push(`${missingOutputs} input(s) in done/ without an output`);

  // Strays after the clean stop.
  const processing = join(inbox, ".processing");
  const claimFolders = await listNames(processing);
  const leftInInbox = (await readdir(inbox)).filter((n) => !["done", "failed", ".processing"].includes(n));
  const leftStaged = await readdir(stage);
  const strayFiles = tempOutputs.length + claimFolders.length + leftInInbox.length + leftStaged.length;
  if (tempOutputs.length > 0) notes.push(`temporary outputs left: ${tempOutputs.slice(0, 3).join(", ")}`);
  if (claimFolders.length > 0) notes.push(`claim folders left: ${claimFolders.slice(0, 3).join(", ")}`);
  if (leftInInbox.length > 0) notes.push(`left in the inbox: ${leftInInbox.slice(0, 3).join(", ")}`);
  if (leftStaged.length > 0) notes.push(`writers' staged files left: ${leftStaged.length}`);
  const badWriters = writerExits.filter((e) => e.code !== 0).length;
  if (badWriters > 0) notes.push(`${badWriters} writer(s) failed`);
  const badImporters = importerExits.filter((e) => e.code !== 0);
  if (badImporters.length > 0) {
    notes.push(
      `${badImporters.length} importer(s) did not exit 0 on SIGTERM: ${badImporters.map((e) => e.code ?? e.signal).join(", ")}`,
    );
  }
  const ok =
    lost === 0 &&
    duplicated === 0 &&
    unexpected.length === 0 &&
    failedNames.length === 0 &&
    partialOutputs === 0 &&
    missingOutputs === 0 &&
    strayFiles === 0 &&
    badWriters === 0 &&
    badImporters.length === 0;
  return {
    ok,
    files: total,
    done: doneNames.length,
    failed: failedNames.length,
    lost,
    duplicated,
    partialOutputs,
    missingOutputs,
    strayFiles,
    kills,
    notes,
  };
});
