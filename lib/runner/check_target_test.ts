import assert from "node:assert/strict";
import refHardened from "../../targets/ref_hardened.ts";
import { defineTarget } from "../target/define_target.ts";
import { TargetStartError } from "../target/start_target.ts";
import { checkTarget, checkTargetStarts } from "./check_target.ts";

Deno.test("checkTarget makes each exchange of ref-hardened in a lab, and they all work", async () => {
  const seen = await checkTarget(refHardened);
  assert.deepEqual(seen.exchanges.map((e) => [e.exchange, e.ok]), [
    ["protocol.request", true],
    ["protocol.request (again)", true],
    ["protocol.partialRequest", true],
    ["protocol.largeRequest", true],
  ]);
  assert.equal(seen.logTail, undefined);
});

Deno.test("checkTarget: an until that never arrives names the exchange, what the server sent and its log", async () => {
  const wrong = defineTarget({
    ...refHardened,
    id: "wrong-until",
    protocol: { ...refHardened.protocol, request: { send: "PING\n", until: "PANG\n" } },
  });
  const seen = await checkTarget(wrong);
  const request = seen.exchanges[0];
  assert.equal(request?.exchange, "protocol.request");
  assert.equal(request?.ok, false);
  assert.match(request?.said ?? "", /^its until "PANG\\n" never arrived: .* after 5 bytes$/);
  assert.equal(request?.received, "PONG\n");
  assert.match(seen.logTail ?? "", /event=listen mode=hardened/);
});

Deno.test("checkTargetStarts: a server that exits at once is a TargetStartError with its words", async () => {
  const broken = defineTarget({
    ...refHardened,
    id: "exits",
    start: () => ({ argv: ["sh", "-c", "echo no such config >&2; exit 1"] }),
    variants: {},
  });
  await assert.rejects(
    checkTargetStarts(broken),
    (error) =>
      error instanceof TargetStartError &&
      error.message ===
        'Target "exits" exited with code "1" before listening on port "7070"; its last lines:\n' +
          "no such config",
  );
});
