import assert from "node:assert/strict";
import { formatMs, parseDuration } from "./duration.ts";

Deno.test("parseDuration reads the units suite files use", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("75s"), 75_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("2h4m"), 7_440_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration(250), 250);
});

Deno.test("parseDuration rejects what it cannot read, naming the value", () => {
  for (const bad of ["", "10", "ten s", "5 m", "-1s", -1, Number.NaN]) {
    assert.throws(() => parseDuration(bad), /Invalid duration/);
  }
});

Deno.test("formatMs picks a readable unit", () => {
  assert.equal(formatMs(12.4), "12 ms");
  assert.equal(formatMs(5000), "5 s");
  assert.equal(formatMs(924_600), "15.4 min");
  assert.equal(formatMs(7_875_000), "2 h 11 min");
});
