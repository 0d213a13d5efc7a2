/** Counts lines in the scenario's process logs. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** How many lines of the `<prefix>-*.log` files in `dir` contain `needle`. */
export async function countLogLines(dir: string, prefix: string, needle: string): Promise<number> {
  let count = 0;
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`${prefix}-`) || !name.endsWith(".log")) continue;
    const text = await readFile(join(dir, name), "utf8");
    for (const line of text.split("\n")) if (line.includes(needle)) count++;
  }
  return count;
}
