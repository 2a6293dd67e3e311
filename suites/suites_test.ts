import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadSuites } from "../lib/cli/load_suites.ts";
import { defineSuite, type Level, type Scenario, type Suite } from "../lib/suite/define_suite.ts";
import type { Expectation } from "../lib/suite/expectations.ts";

const DIR = fileURLToPath(new URL(".", import.meta.url));

/** DESIGN.md's "Families to cover": one suite file each, named after the family. */
const FAMILIES = [
  "blip",
  "churn",
  "crash",
  "fin",
  "freeze",
  "handshake",
  "icmp",
  "nat",
  "reboot",
  "rst",
  "vanish",
];

/**
 * Families with no MUST-level scenario: TCP never requires a server to let go of a silent or
 * stuck peer, so their requirements are SHOULDs and MAYs. Their MUSTs are the expectations
 * every scenario of theirs carries: the server stays alive and keeps serving others.
 */
const NO_MUST_REQUIREMENT = ["freeze", "icmp", "nat", "vanish"];

/** Families where the client goes silent or stuck, so it could stall a careless server. */
const SILENT = ["blip", "churn", "freeze", "handshake", "icmp", "nat", "reboot", "vanish"];

/** The suite files of this directory, as the loader picks them, by file name. */
async function suiteFiles(): Promise<{ name: string; suite: Suite }[]> {
  const names = [...Deno.readDirSync(DIR)]
    .filter((e) =>
      e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("_")
    )
    .map((e) => e.name)
    .sort();
  return await Promise.all(names.map(async (file) => ({
    name: file.slice(0, -".ts".length),
    suite: (await import(pathToFileURL(join(DIR, file)).href)).default as Suite,
  })));
}

async function allScenarios(): Promise<Scenario[]> {
  return (await suiteFiles()).flatMap((f) => f.suite.scenarios);
}

function levelOf(scenario: Scenario, expectation: Expectation): Level {
  return expectation.level ?? scenario.level;
}

function expectsAsMust(scenario: Scenario, kind: Expectation["kind"]): boolean {
  return scenario.expect.some((e) => e.kind === kind && levelOf(scenario, e) === "MUST");
}

Deno.test("the CLI's loader accepts every suite file", async () => {
  const suites = await loadSuites(DIR);
  assert.deepEqual(suites.map((s) => s.id), FAMILIES);
});

Deno.test("each file holds one family: suite id = file name, scenario ids <file name>/<case>", async () => {
  for (const { name, suite } of await suiteFiles()) {
    assert.equal(defineSuite(suite), suite, `${name}.ts passes defineSuite's checks`);
    assert.equal(suite.id, name, `${name}.ts defines suite "${name}"`);
    for (const s of suite.scenarios) {
      assert.match(s.id, new RegExp(`^${name}/[a-z0-9][a-z0-9-]*$`), `${name}.ts: ${s.id}`);
    }
  }
});

Deno.test("every family of DESIGN.md is covered, with at least 30 scenarios in all", async () => {
  assert.deepEqual((await suiteFiles()).map((f) => f.name), FAMILIES);
  const scenarios = await allScenarios();
  assert(scenarios.length >= 30, `${scenarios.length} scenarios`);
});

Deno.test("scenario ids and titles are unique across files", async () => {
  const scenarios = await allScenarios();
  for (const key of ["id", "title"] as const) {
    const seen = new Set<string>();
    for (const s of scenarios) {
      assert(!seen.has(s[key]), `${key} "${s[key]}" appears twice`);
      seen.add(s[key]);
    }
  }
});

Deno.test("requirements are one capitalised sentence, no final period, no RFC 2119 keyword", async () => {
  for (const s of await allScenarios()) {
    const r = s.requirement;
    assert.match(r, /^[A-Z]/, `${s.id}: starts with a capital`);
    assert.doesNotMatch(r, /[.!?;:]$/, `${s.id}: no final punctuation`);
    assert.doesNotMatch(r, /[.!?;] [A-Z]/, `${s.id}: one sentence`);
    // The level field is the one place that says MUST, SHOULD or MAY.
    assert.doesNotMatch(r, /\b(MUST|SHOULD|MAY|SHALL|REQUIRED)\b/, `${s.id}: no keyword`);
  }
});

Deno.test("references name an RFC (section or requirement) or a man page", async () => {
  const reference =
    /^(RFC \d{3,4}( §\d+(\.\d+)*| REQ-\d+)?|_?[a-z][a-z0-9_]*\([1-8]\)( [A-Za-z_-][\w-]*)?)$/;
  for (const s of await allScenarios()) {
    for (const ref of s.refs) assert.match(ref, reference, `${s.id}: "${ref}"`);
  }
});

Deno.test("every scenario checks, as a MUST, that the server stays alive", async () => {
  for (const s of await allScenarios()) {
    assert(expectsAsMust(s, "server-alive"), `${s.id}: serverAlive() at MUST`);
  }
});

Deno.test("every client that could stall a careless server is checked for stalling others", async () => {
  for (const s of await allScenarios()) {
    const pending = ["mid-request", "mid-response", "handshake"].includes(s.phase);
    if (pending || SILENT.includes(s.id.split("/")[0] ?? "")) {
      assert(expectsAsMust(s, "others-served"), `${s.id}: othersServed() at MUST`);
    }
  }
});

Deno.test("every family has a MUST-level requirement, except the silent-peer ones", async () => {
  for (const { name, suite } of await suiteFiles()) {
    if (NO_MUST_REQUIREMENT.includes(name)) continue;
    assert(suite.scenarios.some((s) => s.level === "MUST"), `${name}: a MUST scenario`);
  }
});

Deno.test("IPv6 is covered as well as IPv4", async () => {
  const v6 = (await allScenarios()).filter((s) => s.family === "v6").map((s) => s.id);
  for (const family of ["vanish", "icmp", "blip"]) {
    assert(v6.some((id) => id.startsWith(`${family}/`)), `${family}: an IPv6 scenario`);
  }
});
