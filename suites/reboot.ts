/**
 * reboot: the client host goes away and comes back without any memory of its connections.
 * The server's next segment on the connection, whether data, a retransmission or a keepalive
 * probe, reaches a kernel that has no such connection and answers with RST (RFC 9293 §3.5.1,
 * half-open connections). The server's kernel then aborts the connection. On an idle
 * connection that next segment only comes if the server sends one (keepalive, an idle
 * timeout's FIN), so releasing it is a SHOULD, under the dead-peer budget of 11 min (see
 * vanish.ts). In the middle of a response the RST comes within a few retransmission
 * timeouts, and the server must survive it: a write after the RST raises SIGPIPE.
 *
 * Budget mid-response: 10 s. The first retransmission after the reboot goes out within a
 * few RTOs (200 ms, doubling) and draws the RST at once. The rest is margin for a busy host.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import { connect, exchange, fault, keepReading, requestLarge } from "../lib/suite/steps.ts";

/** The reboot family: the client host comes back without state. */
export default defineSuite({
  id: "reboot",
  title: "Client host reboots: back without state, it answers with RST",
  scenarios: [
    {
      id: "reboot/idle",
      title: "Client host reboots under an idle connection",
      requirement:
        "A server finds out that the client host of an idle connection has rebooted and releases the connection",
      level: "SHOULD",
      refs: ["RFC 9293 §3.5.1", "RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6"],
      phase: "idle",
      steps: [connect(), exchange(), fault.reboot()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "reboot/mid-response",
      title: "Client host reboots while the server is sending",
      requirement:
        "A server keeps running and releases the connection when its next segment to a rebooted client host draws an RST",
      level: "MUST",
      refs: ["RFC 9293 §3.5.1", "RFC 9293 §3.5.3", "send(2) MSG_NOSIGNAL", "signal(7) SIGPIPE"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), fault.reboot()],
      expect: [released({ within: "10s" }), serverAlive(), othersServed()],
    },
  ],
});
