import assert from "node:assert/strict";
import { inspect, InspectRefused } from "./command.ts";

const VIEWS = { json: false, md: false };

Deno.test("inspect refuses what is neither a PID nor :PORT, and two views at once", async () => {
  const refused = async (args: string[], views = VIEWS) => {
    const error = await inspect(args, views).then(() => undefined, (e) => e);
    assert.ok(error instanceof InspectRefused, String(error));
    return error.message;
  };
  assert.equal(await refused([]), `"inspect" takes one PID or :PORT (got 0 arguments)`);
  assert.equal(await refused(["1", "2"]), `"inspect" takes one PID or :PORT (got 2 arguments)`);
  assert.equal(await refused(["nginx"]), `Expected a PID or :PORT (1 to 65535), got "nginx"`);
  assert.equal(await refused([":70000"]), `Expected a PID or :PORT (1 to 65535), got ":70000"`);
  assert.equal(await refused(["0"]), `Expected a PID or :PORT (1 to 65535), got "0"`);
  assert.equal(
    await refused(["1"], { json: true, md: true }),
    `"--json" and "--md" exclude each other`,
  );
});
