/**
 * What to change in the server where it broke an expectation: the knob, in one sentence.
 *
 * @module
 */

import type { ExpectationResult } from "../results/schema.ts";
import type { Scenario } from "../suite/define_suite.ts";
import type { Observations } from "./observations.ts";

function releaseAdvice(scenario: Scenario, obs: Observations): string {
  if (scenario.phase === "mid-response") {
    return "Bound stalled sends: set TCP_USER_TIMEOUT on accepted sockets (it also bounds zero-window stalls) and an application send timeout.";
  }
  if (scenario.phase === "mid-request" || scenario.phase === "handshake") {
    return "Time out incomplete requests and silent new connections at the application (a request/header timeout).";
  }
  const o = obs.socketOptions;
  if (o && !o.keepalive) {
    return "Enable SO_KEEPALIVE with TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT in seconds to minutes (the OS defaults take 2 h 11 min), or an application idle timeout.";
  }
  return "Shorten TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT or add an application idle timeout so dead peers are found within the budget.";
}

/** Advice for the first broken expectation, or undefined when none broke. */
export function recommend(
  scenario: Scenario,
  results: readonly ExpectationResult[],
  obs: Observations,
): string | undefined {
  const brokenAt = results.findIndex((r) => r.verdict === "fail" || r.verdict === "warn");
  const broken = scenario.expect[brokenAt];
  if (!broken) return undefined;
  switch (broken.kind) {
    case "released":
      return releaseAdvice(scenario, obs);
    case "server-alive":
      return obs.serverExit?.signal === "SIGPIPE"
        ? "Ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) or send with MSG_NOSIGNAL: a write to a reset peer must be an EPIPE error, not a death."
        : "Handle connection errors (ECONNRESET, EPIPE, ETIMEDOUT) per connection without ending the process.";
    case "others-served":
      return "Never block the event loop on one client: use non-blocking sockets and per-connection send timeouts.";
    case "survives":
      return "Do not give up on a connection during short outages: keep TCP_USER_TIMEOUT and keepalive limits above the outages you must ride out.";
    case "response-delivered":
      return "After a client's half-close (FIN), still send the full response before closing.";
    case "resources-restored":
      return "Release every resource of a dead connection: close its fd and free its buffers on error or timeout.";
  }
}
