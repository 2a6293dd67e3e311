/**
 * Data flows one way (DESIGN.md): no file imports itself back through others, and no folder
 * of lib/ imports a folder that imports it. Tests and their testdata are left out: a test
 * may reach anywhere.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = fileURLToPath(new URL(".", import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms;

function sources(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && entry.name !== "testdata") files.push(...sources(path));
    else if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(path);
    }
  }
  return files;
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sources(LIB)) {
    const text = Deno.readTextFileSync(file);
    const targets = [...text.matchAll(IMPORT)]
      .map((m) => resolve(dirname(file), m[1] ?? ""))
      .filter((target) => target.startsWith(LIB));
    edges.set(relative(LIB, file), targets.map((t) => relative(LIB, t)));
  }
  return edges;
}

/** A cycle of the graph, as the path around it, or undefined. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const folder = (file: string) => file.split("/")[0] ?? file;

Deno.test("no file of lib/ imports itself back through others", () => {
  const cycle = findCycle(graph());
  assert.equal(cycle, undefined, `Import cycle: ${cycle?.join(" → ")}`);
});

Deno.test("no folder of lib/ imports a folder that imports it", () => {
  const folders = new Map<string, string[]>();
  for (const [file, targets] of graph()) {
    const from = folder(file);
    const to = targets.map(folder).filter((f) => f !== from);
    folders.set(from, [...new Set([...(folders.get(from) ?? []), ...to])]);
  }
  const cycle = findCycle(folders);
  assert.equal(cycle, undefined, `Folder cycle: ${cycle?.join(" → ")}`);
});

Deno.test("the results schema is the leaf: it imports nothing of lib/", () => {
  assert.deepEqual(graph().get("results/schema.ts"), []);
});

/**
 * What the runner may import of the faults and the step actions: their registries, and the
 * types and outcomes every fault or action shares (a skip for an unsupported fault, a harness
 * error). Any one fault or action is reached through a registry only, so adding one never
 * touches the runner.
 */
const RUNNER_MAY_IMPORT: ReadonlySet<string> = new Set([
  "faults/registry.ts",
  "faults/fault.ts",
  "faults/unsupported.ts",
  "actions/registry.ts",
  "actions/action.ts",
  "actions/step.ts",
]);

Deno.test("the runner imports no fault or step action but through their registries", () => {
  const direct = [...graph()]
    .filter(([file]) => folder(file) === "runner")
    .flatMap(([file, targets]) =>
      targets
        .filter((t) => ["faults", "actions"].includes(folder(t)) && !RUNNER_MAY_IMPORT.has(t))
        .map((t) => `${file} → ${t}`)
    );
  assert.deepEqual(direct, []);
});
