import type { Command } from "commander";

/**
 * `tend build <entry> -o <file>`: one executable file holding Node, the program and tend (see
 * docs/deploy.md).
 *
 * @example
 * ```sh
 * tend build src/main.ts -o dist/myservice && scp dist/myservice server:/srv/myservice/
 * ```
 */
export function register(program: Command): void {
  program
    .command("build")
    .description("bundle a program, tend and its packages into one executable file (Node single executable)")
    .argument("<entry>", "the program (a script that calls app.main())")
    .requiredOption("-o, --output <file>", "the executable file to write")
    .option("--node <path>", "the Node binary to copy (default: the one running this command)")
    .option("--external <package...>", "packages to leave out of the bundle")
    .action(async (entry: string, flags: { output: string; node?: string; external?: string[] }) => {
      const started = Date.now();
      const { buildExecutable } = await import("../build/build.ts");
      const result = await buildExecutable({
        entry,
        output: flags.output,
        ...(flags.node === undefined ? {} : { node: flags.node }),
        ...(flags.external === undefined ? {} : { external: flags.external }),
      });
      process.stdout.write(
        `built ${result.output}: ${(result.bytes / 1048576).toFixed(1)} MiB (Node ${result.nodeVersion}, bundle ${(result.bundleBytes / 1024).toFixed(0)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
}
