import assert from "node:assert/strict";
import { main } from "../lib/cli/main.ts";
import type { Results } from "../lib/results/schema.ts";

Deno.test("a user's own target file, passed by path, certifies like a built-in one", async () => {
  let out = "";
  const code = await main(
    [
      "suite",
      "rst/idle",
      "--target",
      new URL("./python_http_target.ts", import.meta.url).pathname,
      "--json",
      "--deadline",
      "10s",
    ],
    { stdout: (text) => out += text, stderr: () => {}, terminal: false },
  );
  const results: Results = JSON.parse(out);
  assert.equal(results.target.id, "python-http");
  const [scenario] = results.scenarios;
  assert.equal(scenario?.verdict, "pass", JSON.stringify(scenario?.expectations));
  // http.server speaks HTTP/1.0: it closes after each response, so its FIN usually leaves
  // before the client's RST, which then only answers it, and the release is the server's own.
  // On a busy machine the client's abort can come first: then the peer's RST released it.
  const evidence = scenario?.evidence ?? [];
  const at = (actor: string, flag: string) =>
    evidence.find((e) => e.actor === actor && e.to !== undefined && e.what.includes(flag))
      ?.atMs ?? Infinity;
  const finFirst = at("server", "FIN") <= at("client", "RST");
  assert.equal(
    scenario?.measurements.releasedHow,
    finFirst ? "server-fin" : "reset-by-peer",
    JSON.stringify(evidence),
  );
  assert.equal(code, 0);
});
