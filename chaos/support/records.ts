/**
 * Reads the record lines worker processes write, one file per process (`<pid>.log`, lines
 * `<tag> <a> <b>`; see fixtures/job-worker.ts and fixtures/fleet-app.ts).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** One record line: its tag (`R`, `S`, `E`, `B`, `F`), the file's pid, and its two fields. */
export interface RecordLine {
  tag: string;
  pid: number;
  a: string;
  b: string;
}

/** Every record line of every worker in `dir`. */
export async function readRecords(dir: string): Promise<RecordLine[]> {
  const lines: RecordLine[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".log")) continue;
    const pid = Number(name.slice(0, -4));
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      const [tag, a, b] = line.split(" ");
      if (tag !== undefined && a !== undefined && b !== undefined) lines.push({ tag, pid, a, b });
    }
  }
  return lines;
}

/** The version each worker pid said it runs (its `R` record). */
export async function workerVersions(dir: string): Promise<Map<number, string>> {
  const versions = new Map<number, string>();
  for (const r of await readRecords(dir)) if (r.tag === "R") versions.set(r.pid, r.b);
  return versions;
}
