#!/usr/bin/env node
// The `tend` command. Runs the built CLI (dist/) when present, else the TypeScript sources
// directly (Node >= 22.18 strips types; inside this repository `npm exec tend` uses Node 24).
import { existsSync } from "node:fs";

const built = new URL("../dist/cli/main.js", import.meta.url);
const cli = existsSync(built)
  ? await import(built.href)
  : await import(new URL("../src/cli/main.ts", import.meta.url).href);
await cli.runCli(process.argv);
