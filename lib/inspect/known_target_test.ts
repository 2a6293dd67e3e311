import assert from "node:assert/strict";
import { knownTarget } from "./known_target.ts";

const REPORTS = decodeURIComponent(new URL("../../reports", import.meta.url).pathname);
const TARGETS = [{ id: "redis", binary: "redis-server" }, { id: "nginx", binary: "nginx" }];

Deno.test("knownTarget names the built-in target a binary is, its report and the variants that release sooner", () => {
  const redis = knownTarget("/usr/bin/redis-server", "redis-server", TARGETS, REPORTS);
  assert.equal(redis?.id, "redis");
  assert.equal(redis?.report, "reports/redis.md");
  const variants = redis?.sooner.map((s) => s.variant);
  assert.deepEqual(variants, ["redis@keepalive-60", "redis@timeout-30"]);
  const timeout = redis?.sooner.find((s) => s.variant === "redis@timeout-30")?.what ?? "";
  assert.match(timeout, /^timeout 30/);
  // The figures are the published reports' own (they change when the matrix is made again).
  assert.match(timeout, /idle dead client released after 3\d\.\d s instead of 10\.\d min/);
  // comm (15 characters at most) when the executable cannot be read.
  assert.equal(knownTarget(undefined, "nginx", TARGETS, REPORTS)?.id, "nginx");
  assert.equal(knownTarget("/usr/bin/python3.11", "python3", TARGETS, REPORTS), undefined);
});
