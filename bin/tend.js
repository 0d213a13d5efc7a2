#!/usr/bin/env node
// The `tend` command. Runs the built CLI (dist/) when present, else the TypeScript sources
// directly (Node >= 22.18 strips types; inside this repository `npm exec tend` uses Node 24).
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";

// Node's compile cache (NODE_COMPILE_CACHE, else a folder in the OS temp dir): from the second run
// on, the CLI's modules load without being compiled again. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// The command enables it for its own process only; a library does not do this to a program.
enableCompileCache();

const built = new URL("../dist/cli/main.js", import.meta.url);
const cli = existsSync(built)
  ? await import(built.href)
  : await import(new URL("../src/cli/main.ts", import.meta.url).href);
await cli.runCli(process.argv);
