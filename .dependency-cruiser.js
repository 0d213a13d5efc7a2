// Import boundaries of src/, checked by `npm run lint` (dependency-cruiser). Type-only imports
// count like any other. The floors, top to bottom; a file imports only from its own floor or below:
//
//   top     index.ts, app.ts, testing.ts, launcher.ts, cli/, http/, observe/
//           supervise/
//   parts   jobs/  converge/  inbox/
//   store   store/ (records, interfaces, migrations runner), store/sqlite/, store/postgres/
//   base    lifecycle/
//   ground  errors/ (every part's error codes in errors/codes/), log/
//
// Across folders, a file imports another folder only through that folder's index.ts (its face
// towards the rest of tend); inside a folder (store/ with its drivers included) files import
// each other directly. No import cycles anywhere.

const TOP = "^src/(app\\.ts|index\\.ts|testing\\.ts|launcher\\.ts|cli/|http/|observe/)";
const SUPERVISE = "^src/supervise/";
const PARTS = "^src/(jobs|converge|inbox)/";
const STORE = "^src/store/";
const BASE = "^src/lifecycle/";
const GROUND = "^src/(errors|log)/";

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-cycles",
      comment: "An import cycle (type-only imports included) couples modules that should have an order.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      comment: "An import the checker cannot resolve would escape every other rule.",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
    {
      name: "supervise-above-top",
      comment: "supervise/ is below the top floor (app, index, testing, launcher, cli).",
      severity: "error",
      from: { path: SUPERVISE },
      to: { path: TOP },
    },
    {
      name: "parts-above",
      comment: "jobs/, converge/ and inbox/ import only parts, store/, lifecycle/, errors/ and log/.",
      severity: "error",
      from: { path: PARTS },
      to: { path: [TOP, SUPERVISE] },
    },
    {
      name: "store-above",
      comment: "store/ is a lower floor: it owns its contracts and imports no part above it.",
      severity: "error",
      from: { path: STORE },
      to: { path: [TOP, SUPERVISE, PARTS] },
    },
    {
      name: "lifecycle-above",
      comment: "lifecycle/ imports only errors/ and log/.",
      severity: "error",
      from: { path: BASE },
      to: { path: "^src/", pathNot: [BASE, GROUND] },
    },
    {
      name: "ground-above",
      comment:
        "errors/ and log/ are the ground floor: they import nothing of tend above them (every part's error codes live in errors/codes/).",
      severity: "error",
      from: { path: GROUND },
      to: { path: "^src/", pathNot: GROUND },
    },
    {
      name: "drivers-apart",
      comment: "One driver never imports the other.",
      severity: "error",
      from: { path: "^src/store/(sqlite|postgres)/" },
      to: { path: "^src/store/(sqlite|postgres)/", pathNot: "^src/store/$1/" },
    },
    {
      name: "through-index",
      comment: "Another folder is reached through its index.ts only, never its internals.",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { path: "^src/[^/]+/", pathNot: ["^src/$1/", "^src/[^/]+/index\\.ts$"] },
    },
    {
      name: "top-files-through-index",
      comment:
        "The top floor's own files reach folders through their index.ts only (and the error catalogue, which only the public entry evaluates: the rest of tend needs its type alone).",
      severity: "error",
      from: { path: "^src/[^/]+\\.ts$" },
      to: { path: "^src/[^/]+/", pathNot: ["^src/[^/]+/index\\.ts$", "^src/errors/catalogue\\.ts$"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".js"],
    },
  },
};
