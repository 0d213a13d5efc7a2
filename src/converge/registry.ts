import { TendError } from "../errors/index.ts";
import type { ConvergerDefinition } from "./definition.ts";
import { type Converger, type ConvergerDeps, createConverger } from "./runner.ts";

/**
 * The convergers of one app, by name: `add` creates a converger and refuses a second one with the
 * same name (TEND_E_CONVERGER_DUPLICATE_NAME), so `app.converger(...)` fails at start-up.
 *
 * @example
 * ```ts
 * const convergers = new ConvergerRegistry();
 * const c = convergers.add({ name: "archive", find, converge }, { store, log, limiter });
 * manager.run(c);
 * ```
 */
export class ConvergerRegistry {
  readonly #byName = new Map<string, Converger>();

  add(definition: ConvergerDefinition, deps: ConvergerDeps): Converger {
    const name = (definition as { name?: unknown } | null)?.name;
    if (typeof name === "string" && this.#byName.has(name)) {
      throw new TendError(
        "TEND_E_CONVERGER_DUPLICATE_NAME",
        `A converger named "${name}" is already defined; give each converger its own name (it names its lease and inconsistencies).`,
        { details: { name } },
      );
    }
    const converger = createConverger(definition, deps);
    this.#byName.set(converger.definition.name, converger);
    return converger;
  }

  get(name: string): Converger | undefined {
    return this.#byName.get(name);
  }

  list(): Converger[] {
    return [...this.#byName.values()];
  }
}
