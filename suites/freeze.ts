/**
 * freeze: the client is alive but no longer takes part. It stops reading (a stuck consumer),
 * or its process is stopped (SIGSTOP: a debugger, a swapped-out or frozen container). Its
 * kernel still answers everything: keepalive probes are acknowledged, and once its receive
 * buffer is full it advertises a zero window and answers every zero-window probe. TCP
 * keeps such a connection open forever (RFC 9293 §3.8.6.1, MUST-37). Only TCP_USER_TIMEOUT,
 * which also bounds a zero-window stall, or an application timeout lets go.
 * A server with blocking writes stalls on it entirely: serving everyone else is the MUST.
 *
 * Budget: 11 min, as for every dead-peer family (see vanish.ts): nginx's send_timeout 60 s
 * or any TCP_USER_TIMEOUT meets it; a server that waits on the kernel never does. A frozen
 * client on an idle connection looks exactly like a legitimately idle one (its kernel
 * answers keepalives), so closing it is only a MAY, measured for information.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import {
  connect,
  exchange,
  freeze,
  keepReading,
  requestLarge,
  stopReading,
} from "../lib/suite/steps.ts";

/** The freeze family: the client stops reading, or its process is stopped. */
export default defineSuite({
  id: "freeze",
  title: "Client alive but stuck: stops reading, or its process is stopped",
  scenarios: [
    {
      // A 4 KiB receive buffer fills at once: the zero window comes within milliseconds.
      id: "freeze/stops-reading",
      title: "Client stops reading in the middle of a response (zero window)",
      requirement:
        "A server gives up on a response whose client has stopped reading and holds its window at zero",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.6.1", "RFC 1122 §4.2.2.17", "RFC 5482", "tcp(7) TCP_USER_TIMEOUT"],
      phase: "mid-response",
      steps: [connect({ rcvBuf: 4096 }), requestLarge(), stopReading()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "freeze/sigstop-idle",
      title: "Client process stopped (SIGSTOP) on an idle connection",
      requirement:
        "A server closes an idle connection whose client process is stopped, though the client's kernel still answers keepalive probes",
      level: "MAY",
      refs: ["RFC 9293 §3.8.4", "RFC 1122 §4.2.3.6", "signal(7) SIGSTOP"],
      phase: "idle",
      steps: [connect(), exchange(), freeze()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
    {
      id: "freeze/sigstop-mid-response",
      title: "Client process stopped (SIGSTOP) in the middle of a response",
      requirement:
        "A server gives up on a response whose client process is stopped, its window at zero but its kernel still answering",
      level: "SHOULD",
      refs: ["RFC 9293 §3.8.6.1", "RFC 1122 §4.2.2.17", "RFC 5482", "signal(7) SIGSTOP"],
      phase: "mid-response",
      steps: [connect({ rcvBuf: 4096 }), requestLarge(), keepReading(), freeze()],
      expect: [released({ within: "11m" }), serverAlive(), othersServed()],
    },
  ],
});
