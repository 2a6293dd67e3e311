/**
 * icmp: the client becomes unreachable and a router says so: it answers the server's
 * segments with ICMP destination unreachable. For an established connection this is a soft
 * error: TCP must not abort on it (RFC 9293 §3.9.2.2, MUST-56). Linux keeps retransmitting
 * and reports the error only when the retransmission timeout ends (about 924.6 s by
 * default, as EHOSTUNREACH instead of ETIMEDOUT). So the server releases it no sooner than a
 * vanished client unless it bounds its sends itself. Administratively prohibited (code 13)
 * is what a firewall sends; Linux treats it the same way.
 *
 * Budget: the dead-peer 11 min of vanish.ts. The kernel's own give-up (about 15.4 min)
 * misses it; TCP_USER_TIMEOUT or a send timeout meets it.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import { connect, fault, keepReading, requestLarge } from "../lib/suite/steps.ts";

/** The icmp family: a router reports the client unreachable. */
export default defineSuite({
  id: "icmp",
  title: "Client unreachable, reported by ICMP",
  scenarios: [
    {
      id: "icmp/host-unreachable",
      title: "Host unreachable while the server is sending",
      requirement:
        "A server releases a connection whose client became unreachable (ICMP host unreachable) while the server was sending to it",
      level: "SHOULD",
      refs: ["RFC 9293 §3.9.2.2", "RFC 1122 §4.2.3.9", "RFC 5461", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), fault.icmpUnreachable("host-unreachable")],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "icmp/admin-prohibited",
      title: "Communication administratively prohibited while the server is sending",
      requirement:
        "A server releases a connection whose client a firewall cut off (ICMP administratively prohibited) while the server was sending to it",
      level: "SHOULD",
      refs: ["RFC 1812 §5.2.7.1", "RFC 9293 §3.9.2.2", "RFC 5461", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), fault.icmpUnreachable("admin-prohibited")],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "icmp/host-unreachable-v6",
      title: "Address unreachable while the server is sending (IPv6)",
      requirement:
        "A server releases an IPv6 connection whose client became unreachable (ICMPv6 address unreachable) while the server was sending to it",
      level: "SHOULD",
      refs: ["RFC 4443 §3.1", "RFC 9293 §3.9.2.2", "RFC 5461", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      family: "v6",
      steps: [connect(), requestLarge(), keepReading(), fault.icmpUnreachable("host-unreachable")],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
  ],
});
