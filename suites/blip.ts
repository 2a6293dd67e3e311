/**
 * blip: a short total outage (a link flap, a Wi-Fi roam, a router failover) that heals. The
 * client is fine throughout. A server that tunes its dead-peer detection too tightly ends
 * connections that would have recovered. RFC 9293 §3.8.4 (MUST-29) forbids taking one lost
 * keepalive probe for a dead peer. A 2-second outage loses at most one or two probes at any
 * sane interval, so an idle connection surviving it is a MUST. Thirty seconds is a router
 * reboot: surviving it is what TCP does by default (keepalive after 2 h; data segments
 * retried for at least 100 s, RFC 9293 §3.8.3). But a server may trade it for faster
 * detection of dead clients, so it is a MAY, measured for information.
 *
 * There is no budget: the outage lasts as long as the steps say, then one exchange on the
 * same connection must succeed.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, serverAlive, survives } from "../lib/suite/expectations.ts";
import { connect, exchange, fault, wait } from "../lib/suite/steps.ts";

/** The blip family: a short outage that heals. */
export default defineSuite({
  id: "blip",
  title: "Short total outage that heals",
  scenarios: [
    {
      id: "blip/idle",
      title: "A 2-second outage on an idle connection",
      requirement: "An idle connection survives a 2-second total outage between client and server",
      level: "MUST",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      steps: [connect(), exchange(), fault.vanish(), wait("2s"), fault.heal()],
      expect: [survives(), serverAlive(), othersServed()],
    },
    {
      id: "blip/idle-v6",
      title: "A 2-second outage on an idle connection (IPv6)",
      requirement:
        "An idle IPv6 connection survives a 2-second total outage between client and server",
      level: "MUST",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      family: "v6",
      steps: [connect(), exchange(), fault.vanish(), wait("2s"), fault.heal()],
      expect: [survives(), serverAlive(), othersServed()],
    },
    {
      id: "blip/idle-30s",
      title: "A 30-second outage on an idle connection",
      requirement: "An idle connection survives a 30-second total outage between client and server",
      level: "MAY",
      refs: ["RFC 9293 §3.8.4", "RFC 9293 §3.8.3", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      steps: [connect(), exchange(), fault.vanish(), wait("30s"), fault.heal()],
      expect: [survives(), serverAlive(), othersServed()],
    },
  ],
});
