/**
 * `serverAlive()`: the server process is still running at the end (no SIGPIPE death, no
 * crash). Always a MUST: a server that dies has failed every client it had. Its exit at the
 * harness's own teardown or interrupt is never recorded as a death.
 *
 * @module
 */

import { defineVerifier, serverDeath } from "./verifier.ts";

/** The data of a `server-alive` expectation. */
export interface ServerAlive {
  kind: "server-alive";
  level: "MUST";
}

/** The verifier of `server-alive`. */
export const serverAliveVerifier = defineVerifier({
  kind: "server-alive",
  build: (): ServerAlive => ({ kind: "server-alive", level: "MUST" }),
  describe: () => "server keeps running",
  watchMs: () => 0,
  judge(_e: ServerAlive, facts) {
    const death = serverDeath(facts);
    return death ? { met: false, actual: death } : { met: true, actual: "still running" };
  },
  advice: (_e, facts) =>
    facts.obs.server.exit?.signal === "SIGPIPE"
      ? "Ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) or send with MSG_NOSIGNAL: a write to a reset peer must be an EPIPE error, not a death."
      : "Handle connection errors (ECONNRESET, EPIPE, ETIMEDOUT) per connection without ending the process.",
});
