import { SUPERVISE_ENV } from "../../supervise/index.ts";

/** The modules the executable's entry imports, by absolute path (bundled, evaluated lazily). */
export interface BundleEntryModules {
  /** The program: a script that calls `app.main()`. */
  program: string;
  /** tend's command line (`runCli`). */
  cli: string;
  /** tend's supervise module (`serveAsSpare`). */
  supervise: string;
  /** tend's public module, evaluated by a spare while it waits. */
  tend: string;
}

/**
 * Pure: the source of the bundle's entry module. A single executable runs the program, or, when
 * its first argument is `tend`, tend's command line with the arguments after it
 * (`./myservice tend jobs stats`), or, when started by a supervisor with `TEND_SPARE=1` in its
 * environment, waits as a spare and runs the program when the master hands it a worker's place.
 * Each is imported lazily, so the program never evaluates the CLI and the CLI never evaluates the
 * program.
 *
 * @example
 * ```ts
 * const source = bundleEntrySource({ program: "/srv/app/main.ts", cli, supervise, tend });
 * ```
 */
export function bundleEntrySource(modules: BundleEntryModules): string {
  const { program, cli, supervise, tend } = modules;
  return `
const argv = process.argv;
if (process.env.${SUPERVISE_ENV.spare} === "1") {
  delete process.env.${SUPERVISE_ENV.spare};
  const { serveAsSpare } = await import(${JSON.stringify(supervise)});
  await serveAsSpare({ load: () => import(${JSON.stringify(program)}), warm: () => import(${JSON.stringify(tend)}) });
} else if (argv[2] === "tend") {
  process.argv = [argv[0], argv[1], ...argv.slice(3)];
  const { runCli } = await import(${JSON.stringify(cli)});
  await runCli(process.argv);
} else {
  await import(${JSON.stringify(program)});
}
`;
}

/**
 * The lines put before the bundled ES module: CommonJS packages inside it (pg, pino) read
 * `__dirname`; and `import.meta` (replaced by `__tendImportMeta`) names the executable file. The
 * script the executable runs is CommonJS (see {@link esmToSeaScript}), so `require` is Node's
 * own, which loads Node's modules.
 */
export const BUNDLE_BANNER = [
  'import { dirname as __tendDirname } from "node:path";',
  'import { pathToFileURL as __tendPathToFileURL } from "node:url";',
  "const __filename = process.execPath;",
  "const __dirname = __tendDirname(process.execPath);",
  "const __tendImportMeta = { url: __tendPathToFileURL(process.execPath).href, filename: process.execPath, dirname: __dirname, main: false };",
].join("\n");

/**
 * Pure: turns the bundled ES module into the CommonJS script a Node 24 single executable runs as
 * its main (compiled ahead with a code cache): its `import` statements, all of Node's own modules
 * (everything else is bundled), become `require` calls at the top, as an ES module evaluates its
 * imports before its body, and the body runs inside an async function, so top-level `await` keeps
 * working. Throws on an import form it does not know.
 *
 * @example
 * ```ts
 * esmToSeaScript('import { a as b } from "node:fs";\nawait b();'); // const { a: b } = require("node:fs"); ... (async () => { ... })()
 * ```
 */
export function esmToSeaScript(esm: string): string {
  const requires: string[] = [];
  const body = esm.replace(
    /^import\s+([^"';]*?)\s*from\s*"([^"]+)";?[ \t]*$|^import\s*"([^"]+)";?[ \t]*$/gm,
    (_line, what: string | undefined, from: string | undefined, bare: string | undefined) => {
      if (bare !== undefined) {
        requires.push(`require(${JSON.stringify(bare)});`);
        return "";
      }
      const source = JSON.stringify(from);
      const clause = (what ?? "").trim();
      const named = /^\{([^}]*)\}$/.exec(clause);
      const namespace = /^\*\s+as\s+([A-Za-z_$][\w$]*)$/.exec(clause);
      const plain = /^([A-Za-z_$][\w$]*)$/.exec(clause);
      if (named !== null) {
        const names = named[1]!
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== "")
          .map((n) => n.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, "$1: $2"));
        requires.push(`const { ${names.join(", ")} } = require(${source});`);
      } else if (namespace !== null || plain !== null) {
        requires.push(`const ${(namespace ?? plain)![1]} = require(${source});`);
      } else {
        throw new Error(
          `tend build: an import form the executable cannot run: import ${clause} from ${source}`,
        );
      }
      return "";
    },
  );
  if (/^\s*export\s/m.test(body)) throw new Error("tend build: the bundle exports names; an entry must not");
  return `"use strict";
${requires.join("\n")}
(async () => {
${body}
})().catch((err) => {
  process.stderr.write((err && err.stack) ? err.stack + "\\n" : String(err) + "\\n");
  process.exit(1);
});
`;
}
