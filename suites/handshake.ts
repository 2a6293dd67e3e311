/**
 * handshake: the client goes down before the first request. A client that vanishes right
 * after its SYN leaves a half-open connection in SYN_RECV, which the server's kernel owns
 * entirely: it retransmits the SYN-ACK tcp_synack_retries times (5: about 63 s) and drops
 * it, and the application never sees it. The release time is the kernel's, not the
 * server's, so only the effect on others is required (a MUST). A client that connects and
 * then never sends is the application's problem: its kernel acknowledges everything, so
 * keepalive never fires. Only a first-request timeout ends it, as nginx's
 * client_header_timeout, postgresql's authentication_timeout or sshd's LoginGraceTime do.
 * Without one, idle sockets use up the server's fds (a Slowloris-style exhaustion).
 *
 * Budget for the silent client: 3 min. The usual first-request timers are 60 to 120 s
 * (nginx 60 s, postgresql 60 s, sshd 120 s); the rest is margin.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import { connect, fault, freeze } from "../lib/suite/steps.ts";

/** The handshake family: the client goes down before its first request. */
export default defineSuite({
  id: "handshake",
  title: "Client goes down before its first request",
  scenarios: [
    {
      id: "handshake/syn-recv",
      title: "Client vanishes right after its SYN (half-open SYN_RECV)",
      requirement:
        "A half-open connection left in SYN_RECV by a client that vanished after its SYN keeps no other client from being served",
      level: "MUST",
      refs: ["RFC 9293 §3.5", "RFC 4987", "tcp(7) tcp_synack_retries", "listen(2)"],
      phase: "handshake",
      steps: [fault.vanishAfterSyn(), connect({ greet: false })],
      expect: [othersServed(), serverAlive()],
    },
    {
      // A stopped process after connect(): the client's kernel acknowledges everything, its
      // application never sends a byte.
      id: "handshake/silent-client",
      title: "Client connects and never sends a request",
      requirement: "A server closes a connection on which the client never sends a request",
      level: "SHOULD",
      refs: ["RFC 4987", "RFC 9293 §3.8.4", "tcp(7) TCP_DEFER_ACCEPT"],
      phase: "handshake",
      steps: [connect({ greet: false }), freeze()],
      expect: [released({ within: "3m" }), serverAlive(), othersServed()],
    },
  ],
});
