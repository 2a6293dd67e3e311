/**
 * Strict validation of a results file against the contract ({@linkcode resultsSchema}): every
 * problem named by its JSON path, what was expected and what was there.
 *
 * @module
 */

import type { z } from "zod";
import { type Results, resultsSchema } from "./schema.ts";

/** One way a value breaks the results contract. */
export interface ResultsProblem {
  /** Where, as a JSON path from the file's root, e.g. `scenarios[3].verdict` ("" = the root). */
  path: string;
  /** What the contract expects there, in words. */
  expected: string;
  /** What is there, as short JSON (`undefined` when missing). */
  got: string;
}

/** The outcome of {@linkcode validateResults}. */
export type ResultsValidation =
  | { ok: true; results: Results }
  | { ok: false; problems: ResultsProblem[] };

/**
 * Checks a parsed JSON value against the results contract.
 *
 * @example
 * ```ts
 * import { validateResults } from "./validate_results.ts";
 * const check = validateResults({ schema: "clientdown/results@2" });
 * if (!check.ok) console.log(check.problems[0]); // { path: "target", expected: "an object", ... }
 * ```
 */
export function validateResults(value: unknown): ResultsValidation {
  const parsed = resultsSchema.safeParse(value);
  if (parsed.success) return { ok: true, results: parsed.data };
  return { ok: false, problems: problemsOf(parsed.error.issues, value) };
}

/** A JSON path in the usual notation: `a.b[2].c`; keys that are not identifiers are quoted. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) {
      out += out ? `.${key}` : key;
    } else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** The value at `path`, or undefined. */
function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Short JSON of a value, for a message. */
export function shortJson(value: unknown, max = 60): string {
  if (value === undefined) return "undefined";
  let json: string;
  if (Array.isArray(value)) json = `a list of ${value.length}`;
  else if (value !== null && typeof value === "object") json = "an object";
  else json = JSON.stringify(value) ?? String(value);
  return json.length > max ? `${json.slice(0, max - 1)}…` : json;
}

/** What `expected` says of a field the contract does not have. */
const UNKNOWN_FIELD = "absent (it is not a field of the contract)";

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
  record: "an object",
};

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      const word = TYPE_WORDS[issue.expected] ?? issue.expected;
      return word;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? JSON.stringify(issue.values[0])
        : `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_big": {
      const bound = String(issue.maximum);
      if (issue.origin === "string") return `at most ${bound} characters`;
      if (issue.origin === "array") return `at most ${bound} items`;
      return `${issue.inclusive ? "≤" : "<"} ${bound}`;
    }
    case "too_small": {
      const bound = String(issue.minimum);
      if (issue.origin === "string") {
        return issue.minimum === 1 ? "a non-empty string" : `at least ${bound} characters`;
      }
      if (issue.origin === "array") return `at least ${bound} items`;
      return `${issue.inclusive ? "≥" : ">"} ${bound}`;
    }
    case "invalid_format":
      if (issue.format === "regex" && "pattern" in issue) {
        return `a string matching ${String(issue.pattern)}`;
      }
      return issue.format === "datetime" ? "an ISO-8601 date-time" : `a ${issue.format}`;
    case "unrecognized_keys":
      return UNKNOWN_FIELD;
    case "invalid_union":
      return "one of the allowed shapes";
    case "not_multiple_of":
      return `a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

function problemsOf(issues: readonly z.core.$ZodIssue[], value: unknown): ResultsProblem[] {
  return issues.flatMap((issue) => {
    const path = issue.path as PropertyKey[];
    const paths = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...path, k]) : [path];
    return paths.map((p) => ({
      path: jsonPath(p),
      expected: expectedOf(issue),
      got: shortJson(at(value, p)),
    }));
  });
}

/**
 * One line naming a problem: `field "scenarios[0].verdict" must be one of ...: got "maybe"`.
 *
 * @example
 * ```ts
 * import { describeProblem } from "./validate_results.ts";
 * describeProblem({ path: "target.id", expected: "a string", got: "undefined" });
 * // 'field "target.id" must be a string: got undefined'
 * ```
 */
export function describeProblem(problem: ResultsProblem): string {
  const where = problem.path ? `field "${problem.path}"` : "the file";
  if (problem.expected === UNKNOWN_FIELD) return `${where} is not a field of the contract`;
  if (problem.got === "undefined") return `${where} is missing: expected ${problem.expected}`;
  return `${where} must be ${problem.expected}: got ${problem.got}`;
}
