import assert from "node:assert/strict";
import nginx from "../../targets/nginx.ts";
import redis from "../../targets/redis.ts";
import refHardened from "../../targets/ref_hardened.ts";
import { ownKnobs, withOwnKnobs } from "./knob_advice.ts";

Deno.test("advice names the target's own setting for what went wrong, not socket options", () => {
  const advice = "Bound stalled sends: set TCP_USER_TIMEOUT on accepted sockets.";
  assert.equal(
    withOwnKnobs(advice, nginx, "mid-response"),
    `${advice} For nginx, the setting that does it: send_timeout (now ${
      nginx.knobs!.send_timeout
    }).`,
  );
  assert.deepEqual(ownKnobs(nginx.knobs!, "mid-request"), [
    "client_header_timeout",
    "client_body_timeout",
  ]);
  assert.deepEqual(ownKnobs(nginx.knobs!, "idle"), ["keepalive_timeout", "client_header_timeout"]);
  assert.deepEqual(ownKnobs(redis.knobs!, "idle"), ["timeout", "tcp-keepalive"]);
  // Only socket options listed: the advice stays as it is.
  assert.equal(withOwnKnobs(advice, refHardened, "mid-response"), advice);
  assert.equal(withOwnKnobs(advice, { id: "x" }, "idle"), advice);
});
