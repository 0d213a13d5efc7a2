import { execFile } from "node:child_process";
import { constants, existsSync, statSync } from "node:fs";
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { invalidArgument, TendError } from "../../errors/index.ts";
import { BUNDLE_BANNER, bundleEntrySource, esmToSeaScript } from "./entry.ts";

const run = promisify(execFile);

/** Options of {@link buildExecutable}. */
export interface BuildOptions {
  /** The program: a script that calls `app.main()` (TypeScript or JavaScript). */
  entry: string;
  /** The executable file to write (replaced atomically when it exists). */
  output: string;
  /** The Node binary to copy into the executable (default: the one running this command). */
  node?: string;
  /** More packages to leave out of the bundle (loaded at run time, so they must not be needed). */
  external?: readonly string[];
}

/** What {@link buildExecutable} made. */
export interface BuildResult {
  output: string;
  /** Size of the executable in bytes. */
  bytes: number;
  /** Size of the bundled JavaScript in bytes. */
  bundleBytes: number;
  /** The Node version inside. */
  nodeVersion: string;
}

/** Optional packages the bundle never holds: pg's native binding is only loaded when asked for. */
const ALWAYS_EXTERNAL = ["pg-native"];
// Spelt in parts: the whole word must occur once only in the executable, and this file is bundled too.
const SEA_FUSE = ["NODE", "SEA", "FUSE", "fce680ab2cc467b6e072b8b5df1996b2"].join("_");

async function load<T>(name: "esbuild" | "postject"): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    throw new TendError(
      "TEND_E_BUILD_TOOL_MISSING",
      `tend build needs the package "${name}", which is not installed. Install the build tools as devDependencies of the app: npm install -D esbuild postject`,
      { cause: err, details: { missing: name } },
    );
  }
}

function failed(step: string, err: unknown): TendError {
  const message = err instanceof Error ? err.message : String(err);
  return new TendError("TEND_E_BUILD_FAILED", `tend build: ${step} failed: ${message}`, {
    cause: err,
    details: { step },
  });
}

/** A module of tend's, relative to this file's folder (sources or built JavaScript, whichever is running). */
function tendModule(path: string): string {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return fileURLToPath(new URL(`${path}.${ext}`, import.meta.url));
}

/** The esbuild plugin shape used here (esbuild is an optional, dynamically loaded dependency). */
interface EsbuildPlugin {
  name: string;
  setup(build: {
    onLoad(
      options: { filter: RegExp },
      callback: (args: { path: string }) => Promise<{ contents: string; loader: "js" } | undefined>,
    ): void;
  }): void;
}

/** The line of src/log/pino-module.ts that loads pino (compiled or not, it reads the same). */
const PINO_REQUIRE = 'createRequire(import.meta.url)("pino")';

/**
 * tend loads pino with `createRequire` (src/log/pino-module.ts: cheaper at start-up than importing
 * it), which esbuild does not follow: in the bundle, that file (of whichever copy of tend the
 * program imports) becomes an `import` of pino, so pino is bundled.
 */
function pinoImportPlugin(): EsbuildPlugin {
  return {
    name: "tend-pino-import",
    setup(build) {
      build.onLoad({ filter: /[\\/]log[\\/]pino-module\.[jt]s$/ }, async ({ path }) => {
        if (!(await readFile(path, "utf8")).includes(PINO_REQUIRE)) return undefined;
        return { contents: 'import pino from "pino";\nexport const pinoModule = pino;\n', loader: "js" };
      });
    },
  };
}

interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: Array<{ contents: Uint8Array }> }>;
}
interface PostjectApi {
  inject(
    file: string,
    name: string,
    data: Buffer,
    options: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean },
  ): Promise<void>;
}

/**
 * Builds one executable file from a program: bundles it (its code, tend, pg, pino, everything it
 * imports; Node's own modules stay outside) with esbuild into one ES module, makes a Node single
 * executable application blob whose CommonJS main imports that module from memory, and injects
 * the blob into a copy of the Node binary with postject. The file runs with no Node and no
 * node_modules on the host; `./file tend <command>` runs tend's CLI from it.
 *
 * @example
 * ```ts
 * const { bytes } = await buildExecutable({ entry: "src/main.ts", output: "dist/myservice" });
 * ```
 */
export async function buildExecutable(options: BuildOptions): Promise<BuildResult> {
  const entry = resolve(options.entry);
  if (!existsSync(entry) || !statSync(entry).isFile()) {
    throw invalidArgument("TEND_E_BUILD_INVALID_OPTION", "entry", options.entry, "an existing program file");
  }
  if (typeof options.output !== "string" || options.output === "") {
    throw invalidArgument("TEND_E_BUILD_INVALID_OPTION", "output", options.output, "a file path (-o <file>)");
  }
  const output = resolve(options.output);
  if (existsSync(output) && statSync(output).isDirectory()) {
    throw invalidArgument(
      "TEND_E_BUILD_INVALID_OPTION",
      "output",
      options.output,
      "a file path, not a folder",
    );
  }
  const node = resolve(options.node ?? process.execPath);
  try {
    await access(node, constants.X_OK);
  } catch {
    throw invalidArgument("TEND_E_BUILD_INVALID_OPTION", "node", options.node, "an executable Node binary");
  }
  const esbuild = await load<EsbuildApi>("esbuild");
  const postject = await load<PostjectApi>("postject");

  let bundle: Uint8Array;
  try {
    const result = await esbuild.build({
      stdin: {
        contents: bundleEntrySource({
          program: entry,
          cli: tendModule("../main"),
          supervise: tendModule("../../supervise/index"),
          tend: tendModule("../../index"),
        }),
        resolveDir: dirname(entry),
        sourcefile: "tend-executable-entry.mjs",
        loader: "js",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      write: false,
      logLevel: "silent",
      banner: { js: BUNDLE_BANNER },
      define: { "import.meta": "__tendImportMeta" },
      external: [...ALWAYS_EXTERNAL, ...(options.external ?? [])],
      plugins: [pinoImportPlugin()],
      legalComments: "none",
    });
    const file = result.outputFiles?.[0];
    if (file === undefined) throw new Error("esbuild wrote no output");
    bundle = file.contents;
  } catch (err) {
    throw failed("bundling", err);
  }

  const work = await mkdtemp(join(tmpdir(), "tend-build-"));
  try {
    let script: string;
    try {
      script = esmToSeaScript(new TextDecoder().decode(bundle));
    } catch (err) {
      throw failed("turning the bundle into the executable's script", err);
    }
    await writeFile(join(work, "main.cjs"), script);
    await writeFile(
      join(work, "sea.json"),
      JSON.stringify({
        main: join(work, "main.cjs"),
        output: join(work, "sea.blob"),
        disableExperimentalSEAWarning: true,
        // V8's compiled code goes into the file too: the program starts without parsing it all.
        useCodeCache: true,
      }),
    );
    let nodeVersion: string;
    try {
      nodeVersion = (await run(node, ["--version"])).stdout.trim();
      await run(node, ["--experimental-sea-config", join(work, "sea.json")], { cwd: work });
    } catch (err) {
      throw failed(`making the single-executable blob with ${node}`, err);
    }
    const staged = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
    try {
      await mkdir(dirname(output), { recursive: true });
      await copyFile(node, staged);
      await chmod(staged, 0o755);
      await postject.inject(staged, "NODE_SEA_BLOB", await readFile(join(work, "sea.blob")), {
        sentinelFuse: SEA_FUSE,
        overwrite: true,
      });
      // A rename replaces a running executable safely: processes running the old file keep it.
      await rename(staged, output);
    } catch (err) {
      await rm(staged, { force: true });
      throw failed("injecting the blob into a copy of Node", err);
    }
    return { output, bytes: statSync(output).size, bundleBytes: bundle.byteLength, nodeVersion };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
