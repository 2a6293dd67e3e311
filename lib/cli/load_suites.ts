/**
 * Loads the suite files (`suites/*.ts`) and selects scenarios by id. Every mistake in a
 * suite file becomes a UsageError naming the file, the scenario and the field, before any
 * lab exists.
 *
 * @module
 */

import {
  defineSuite,
  type Scenario,
  type Suite,
  SuiteDefinitionError,
} from "../suite/define_suite.ts";
import { importDefault, moduleFiles } from "./_user_modules.ts";
import { nearIds, quoted } from "../text/near_ids.ts";
import { displayPath, SUITES_DIR } from "./repo_paths.ts";
import { UsageError } from "./usage_error.ts";

const EXAMPLE = `"export default defineSuite({ id, title, scenarios })"`;

function isSuiteError(error: unknown): error is SuiteDefinitionError {
  return error instanceof SuiteDefinitionError;
}

async function loadSuite(path: string): Promise<Suite> {
  const exported = await importDefault(path, "Suite", isSuiteError, EXAMPLE);
  try {
    // A plain object exported without defineSuite gets the same checks.
    return defineSuite(exported as Suite);
  } catch (error) {
    if (!isSuiteError(error)) throw error;
    throw new UsageError(`Suite file "${displayPath(path)}": ${error.message}`);
  }
}

/**
 * Every suite of a directory (default: the built-in `suites/`), in file-name order.
 *
 * @example
 * ```ts ignore
 * import { loadSuites } from "./load_suites.ts";
 * const suites = await loadSuites();
 * console.log(suites.flatMap((s) => s.scenarios).length);
 * ```
 */
export async function loadSuites(dir: string = SUITES_DIR): Promise<Suite[]> {
  const files = moduleFiles(dir);
  if (!files.length) throw new UsageError(`No suite files in "${displayPath(dir)}"`);
  const suites: Suite[] = [];
  const fileOf = new Map<string, string>();
  for (const file of files) {
    const suite = await loadSuite(file);
    const other = fileOf.get(suite.id);
    if (other !== undefined) {
      throw new UsageError(
        `Suite file "${displayPath(file)}": suite id "${suite.id}" is already used by "${
          displayPath(other)
        }"`,
      );
    }
    fileOf.set(suite.id, file);
    suites.push(suite);
  }
  return suites;
}

/**
 * The scenarios an id selects: a suite id (`vanish`) selects the whole suite, a scenario id
 * (`vanish/idle`) one scenario. An unknown id is a UsageError listing the nearest ids.
 */
export function selectScenarios(suites: readonly Suite[], id: string): Scenario[] {
  const suite = suites.find((s) => s.id === id);
  if (suite) return [...suite.scenarios];
  const scenario = suites.flatMap((s) => s.scenarios).find((s) => s.id === id);
  if (scenario) return [scenario];
  const known = suites.flatMap((s) => [s.id, ...s.scenarios.map((x) => x.id)]);
  throw new UsageError(
    `Unknown suite or scenario "${id}": the nearest ids are ${quoted(nearIds(id, known))} ` +
      `(see "list")`,
  );
}
