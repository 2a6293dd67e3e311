/**
 * vanish: the client host disappears without a packet (cable pulled, power lost): the
 * router drops everything to and from it. The server hears nothing, ever. It finds out only
 * by sending: keepalive probes on an idle connection, retransmissions when it has data in
 * flight. TCP requires neither (keepalive is optional and off by default, RFC 9293 §3.8.4),
 * so releasing a vanished client is a SHOULD. Staying alive and serving everyone else
 * meanwhile is a MUST (`serverAlive()`, `othersServed()`).
 *
 * Budget, the same in every dead-peer family (vanish, freeze, reboot, nat, icmp): 11 min.
 * The OS alone takes much longer: keepalive, when on, waits 7200 s, then 9 probes 75 s apart
 * (2 h 11 min 15 s); with data in flight the kernel gives up after about 924.6 s
 * (tcp_retries2 = 15, with no RST). A server meets 11 min only by choice: tuned keepalive
 * (redis's default tcp-keepalive 300: 300 + 3 × 100 s = 10 min, the tightest widely shipped
 * default), TCP_USER_TIMEOUT, or application timeouts (nginx's keepalive_timeout 75 s,
 * client_header_timeout 60 s, send_timeout 60 s). The extra minute covers timer slack. A server
 * left on OS defaults gets a warn, and the figure measured or predicted says how long it
 * does hold on.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import {
  connect,
  exchange,
  fault,
  keepReading,
  requestLarge,
  sendPartial,
} from "../lib/suite/steps.ts";

/** The vanish family: the client host is gone without a trace. */
export default defineSuite({
  id: "vanish",
  title: "Client host vanishes without a trace",
  scenarios: [
    {
      id: "vanish/idle",
      title: "Client host vanishes from an idle connection",
      requirement: "A server releases an idle connection whose client host has vanished",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6", "tcp(7) TCP_KEEPIDLE"],
      phase: "idle",
      steps: [connect(), exchange(), fault.vanish()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      // The partial request was acknowledged: to TCP the connection is idle, only keepalive
      // or a request timeout notices.
      id: "vanish/mid-request",
      title: "Client host vanishes in the middle of a request",
      requirement:
        "A server releases a connection whose client host vanished after sending part of a request",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6", "tcp(7) TCP_KEEPIDLE"],
      phase: "mid-request",
      steps: [connect(), sendPartial(), fault.vanish()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      // The client was reading, so data is in flight and the send buffer fills: keepalive
      // never runs with unacknowledged data, only the retransmission timeout or
      // TCP_USER_TIMEOUT or a send timeout ends it.
      id: "vanish/mid-response",
      title: "Client host vanishes while the server is sending",
      requirement:
        "A server releases a connection whose client host vanished while the server was sending to it",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.3", "RFC 1122 §4.2.3.5", "RFC 5482", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), fault.vanish()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "vanish/idle-v6",
      title: "Client host vanishes from an idle connection (IPv6)",
      requirement: "A server releases an idle IPv6 connection whose client host has vanished",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6", "tcp(7) TCP_KEEPIDLE"],
      phase: "idle",
      family: "v6",
      steps: [connect(), exchange(), fault.vanish()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "vanish/mid-response-v6",
      title: "Client host vanishes while the server is sending (IPv6)",
      requirement:
        "A server releases an IPv6 connection whose client host vanished while the server was sending to it",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.3", "RFC 1122 §4.2.3.5", "RFC 5482", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      family: "v6",
      steps: [connect(), requestLarge(), keepReading(), fault.vanish()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
  ],
});
