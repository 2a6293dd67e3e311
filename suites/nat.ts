/**
 * nat: the client sits behind a NAT (a home router, a carrier-grade NAT, a cloud NAT
 * gateway) that forgets the mapping of an idle connection. Both hosts are fine, but the
 * path between them is gone. A stray packet from the server then draws an RST from the
 * router or is dropped in silence, depending on the NAT. RFC 5382 REQ-5 asks NATs to keep
 * established mappings for at least 2 h 4 min. Real ones forget much sooner: AWS NAT
 * gateway 350 s, Azure 4 min, GCP Cloud NAT 1200 s. So the expiry scenarios keep the
 * RFC's timeout and make the mapping expire on purpose.
 *
 * Budgets: releasing an idle connection whose mapping expired works like a vanished client
 * (rst strays) or is the same thing (drop strays), so it has the same SHOULD and 11 min as
 * vanish.ts. A server whose keepalive fires more often than the NAT's timeout keeps the
 * mapping, and the connection, alive. That is beyond what any RFC asks of a server, so it
 * is a MAY, measured over 15 min: long enough for a 4-minute mapping to expire and for
 * redis-like keepalive (300 s, then 3 × 100 s) to give up on it. It only means something
 * with `--deadline 15m` or more.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive, survives } from "../lib/suite/expectations.ts";
import { connect, exchange, fault } from "../lib/suite/steps.ts";

/** The nat family: a NAT between client and server forgets the connection. */
export default defineSuite({
  id: "nat",
  title: "NAT mapping expires between client and server",
  scenarios: [
    {
      id: "nat/idle-expired-rst",
      title: "NAT forgets an idle connection; the router resets strays",
      requirement:
        "A server releases an idle connection whose NAT mapping has expired, at a router that answers stray packets with RST",
      level: "SHOULD",
      refs: ["RFC 5382 REQ-5", "RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      steps: [fault.nat("2h4m", "rst"), connect(), exchange(), fault.natExpire()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "nat/idle-expired-drop",
      title: "NAT forgets an idle connection; the router drops strays",
      requirement:
        "A server releases an idle connection whose NAT mapping has expired, at a router that drops stray packets silently",
      level: "SHOULD",
      refs: ["RFC 5382 REQ-5", "RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      steps: [fault.nat("2h4m", "drop"), connect(), exchange(), fault.natExpire()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      // Nothing is taken down: the threat is the NAT's own timeout, and the question is
      // whether the server's keepalive probes refresh the mapping before it runs out.
      id: "nat/keepalive-4m",
      title: "Keepalive keeps a 4-minute NAT mapping alive",
      requirement:
        "A server that keeps an idle connection open probes it often enough to keep a NAT mapping with a 4-minute timeout alive",
      level: "MAY",
      refs: ["RFC 5382 REQ-5", "RFC 1122 §4.2.3.6", "tcp(7) TCP_KEEPIDLE"],
      phase: "idle",
      steps: [fault.nat("4m", "drop"), connect(), exchange()],
      expect: [survives({ for: "15m" }), serverAlive(), othersServed()],
    },
  ],
});
