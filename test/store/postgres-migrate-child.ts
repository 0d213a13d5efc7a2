/**
 * Child process for the "two processes migrate together" test: opens a store without migrating,
 * prints "ready", waits for "go" on stdin, migrates and prints the names it applied as JSON.
 */
import { createInterface } from "node:readline";
import { openStore } from "../../src/store/index.ts";

const [url, schema] = process.argv.slice(2);
if (url === undefined || schema === undefined)
  throw new Error("usage: postgres-migrate-child.ts <url> <schema>");
const store = await openStore(url, { schema, migrate: false });
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const line of lines) {
  if (line.trim() !== "go") continue;
  try {
    const applied = await store.migrate();
    process.stdout.write(`${JSON.stringify({ applied })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
  }
  break;
}
lines.close();
await store.close();
