import { createRequire } from "node:module";
import type * as Pino from "pino";

/**
 * The pino package, loaded with `require` rather than `import`: pino is CommonJS, and importing it
 * from an ES module costs a Manager's start-up about a tenth more time than requiring it (Node's ES
 * module loader wraps the package and every file it requires). `tend build` replaces this file with
 * an `import` of pino when it bundles a program (see src/cli/build/build.ts), as its bundler does
 * not follow `createRequire`.
 */
export const pinoModule: typeof Pino = createRequire(import.meta.url)("pino") as typeof Pino;
