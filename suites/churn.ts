/**
 * churn: many clients die at once, as when a load balancer, a NAT or a whole client fleet
 * restarts. Each death is simple on its own (see rst, crash and vanish); together they test
 * the server's bookkeeping. Every fd and buffer must come back: a server that leaks a
 * little per dead client runs out of fds (RLIMIT_NOFILE) or memory in production. New
 * clients must be served meanwhile. Resets and kills are explicit, so their resources must
 * return (a MUST). Vanished clients are released only by the server's own dead-peer
 * detection, so that case is a SHOULD.
 *
 * Budgets: resets and kills are checked within the runner's deadline, since the server has
 * been told. The connection under test in the vanish case gets the dead-peer budget of
 * 11 min (see vanish.ts) and stands for the other 200, which the same server treats
 * the same way.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import {
  othersServed,
  released,
  resourcesRestored,
  serverAlive,
} from "../lib/suite/expectations.ts";
import { churn, connect, exchange } from "../lib/suite/steps.ts";

/** The churn family: many clients die at once. */
export default defineSuite({
  id: "churn",
  title: "Many clients die at once",
  scenarios: [
    {
      id: "churn/reset-500",
      title: "500 clients reset at once",
      requirement:
        "A server frees every resource of 500 clients that reset their connections at once and keeps serving new clients",
      level: "MUST",
      refs: ["RFC 9293 §3.5.3", "socket(7) SO_LINGER", "getrlimit(2) RLIMIT_NOFILE"],
      phase: "idle",
      steps: [churn(500, "abort")],
      expect: [resourcesRestored(), othersServed(), serverAlive()],
    },
    {
      id: "churn/crash-500",
      title: "A client process with 500 connections is killed",
      requirement:
        "A server frees every resource of 500 connections whose client process was killed and keeps serving new clients",
      level: "MUST",
      refs: ["RFC 9293 §3.6", "_exit(2)", "getrlimit(2) RLIMIT_NOFILE"],
      phase: "idle",
      steps: [churn(500, "crash")],
      expect: [resourcesRestored(), othersServed(), serverAlive()],
    },
    {
      id: "churn/vanish-200",
      title: "200 clients vanish at once",
      requirement:
        "A server releases every resource of 200 idle clients whose host vanished at once and keeps serving new clients",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6", "getrlimit(2) RLIMIT_NOFILE"],
      phase: "idle",
      steps: [connect(), exchange(), churn(200, "vanish")],
      expect: [
        released({ within: "11m" }),
        resourcesRestored(),
        othersServed(),
        serverAlive(),
      ],
    },
  ],
});
