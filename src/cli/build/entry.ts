/**
 * Pure: the source of the bundle's entry module. A single executable runs the program, or, when
 * its first argument is `tend`, tend's command line with the arguments after it
 * (`./myservice tend jobs stats`). Both are imported lazily, so the program never evaluates the
 * CLI and the CLI never evaluates the program.
 *
 * @example
 * ```ts
 * const source = bundleEntrySource("/srv/app/main.ts", "/srv/app/node_modules/tend/dist/cli/main.js");
 * ```
 */
export function bundleEntrySource(program: string, cli: string): string {
  return `
const argv = process.argv;
if (argv[2] === "tend") {
  process.argv = [argv[0], argv[1], ...argv.slice(3)];
  const { runCli } = await import(${JSON.stringify(cli)});
  await runCli(process.argv);
} else {
  await import(${JSON.stringify(program)});
}
`;
}

/**
 * The lines put before the bundled ES module: CommonJS packages inside it (pg, pino) call
 * `require` for Node's own modules and read `__dirname`, which an ES module does not have; and
 * `import.meta.url` (replaced by `__tendMetaUrl`) names the executable file, since the module
 * itself is loaded from memory.
 */
export const BUNDLE_BANNER = [
  'import { createRequire as __tendCreateRequire } from "node:module";',
  'import { dirname as __tendDirname } from "node:path";',
  'import { pathToFileURL as __tendPathToFileURL } from "node:url";',
  "const require = __tendCreateRequire(process.execPath);",
  "const __filename = process.execPath;",
  "const __dirname = __tendDirname(process.execPath);",
  "const __tendMetaUrl = __tendPathToFileURL(process.execPath).href;",
].join("\n");

/**
 * The CommonJS main script of the single executable (Node 24 runs only CommonJS there, and the
 * program and tend use top-level await): it imports the bundled ES module from the executable's
 * own asset, in memory. `asset` names the asset.
 */
export function seaMainSource(asset: string): string {
  return `"use strict";
const { getAsset } = require("node:sea");
const source = Buffer.from(getAsset(${JSON.stringify(asset)})).toString("base64");
import("data:text/javascript;base64," + source).catch((err) => {
  process.stderr.write((err && err.stack) ? err.stack + "\\n" : String(err) + "\\n");
  process.exit(1);
});
`;
}
