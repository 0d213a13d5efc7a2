/** Error codes of `tend build` (see docs/errors.md). Keys are the codes; values their meaning. */
export const BUILD_CODES = {
  TEND_E_BUILD_INVALID_OPTION:
    "A `tend build` argument is invalid: the entry is not a file, the output path is missing or is a folder, or the Node binary is not an executable file.",
  TEND_E_BUILD_TOOL_MISSING:
    "`tend build` needs the bundler `esbuild` and the injector `postject`: install them as devDependencies of the app (`npm install -D esbuild postject`).",
  TEND_E_BUILD_FAILED:
    "Bundling the program, making the single-executable blob or injecting it into the copy of Node failed; the message has the tool's own error.",
} as const satisfies Record<`TEND_E_${string}`, string>;
