/**
 * rst: the client resets the connection (`SO_LINGER {1,0}` + close, a close with unread data,
 * or its host's stack destroying the socket) and the server receives an RST. The server's
 * kernel aborts the connection at once (RFC 9293 §3.5.3) and reports ECONNRESET; from then
 * on the socket is dead, but its fd stays open until the application closes it, so only the
 * application can release it. A write after the RST fails with EPIPE and raises SIGPIPE,
 * whose default action ends the process: "the server keeps running" is a MUST in every case
 * where the server may be writing.
 *
 * Budget: the kernel has already done everything, so 1 s measures only the server's own
 * reaction, as in the fin family.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import {
  abort,
  close,
  connect,
  exchange,
  fault,
  keepReading,
  requestLarge,
  sendPartial,
  sendRequest,
  wait,
} from "../lib/suite/steps.ts";

/** The rst family: the client resets the connection. */
export default defineSuite({
  id: "rst",
  title: "Client resets the connection (RST)",
  scenarios: [
    {
      id: "rst/idle",
      title: "Client aborts an idle connection",
      requirement: "A server frees an idle connection as soon as the client resets it",
      level: "MUST",
      refs: ["RFC 9293 §3.5.3", "RFC 9293 §3.10.5", "socket(7) SO_LINGER"],
      phase: "idle",
      steps: [connect(), exchange(), abort()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
    {
      id: "rst/mid-request",
      title: "Client aborts in the middle of a request",
      requirement:
        "A server drops a partial request and frees the connection as soon as the client resets it",
      level: "MUST",
      refs: ["RFC 9293 §3.5.3", "RFC 9293 §3.10.5", "socket(7) SO_LINGER"],
      phase: "mid-request",
      steps: [connect(), sendPartial(), abort()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
    {
      id: "rst/mid-response",
      title: "Client aborts in the middle of a response",
      requirement:
        "A server keeps running, stops sending and frees the connection when the client resets it in the middle of a response",
      level: "MUST",
      refs: ["RFC 9293 §3.5.3", "send(2) MSG_NOSIGNAL", "signal(7) SIGPIPE", "tcp(7)"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), abort()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
    {
      // The response arrives and is never read: the client's close() then sends RST, not FIN.
      id: "rst/close-unread",
      title: "Client closes with an unread response in its buffer",
      requirement:
        "A server frees the connection as soon as the client closes it with unread data in its receive buffer, which makes its kernel send RST",
      level: "MUST",
      refs: ["RFC 9293 §3.6.1", "RFC 2525 §2.17", "RFC 9293 §3.5.3"],
      phase: "after-request",
      steps: [connect(), sendRequest(), wait("500ms"), close()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
    {
      id: "rst/host-destroy",
      title: "Client host's stack destroys the connection (ss -K)",
      requirement:
        "A server frees an idle connection as soon as the client host's stack destroys it with an RST",
      level: "MUST",
      refs: ["RFC 9293 §3.5.2", "RFC 9293 §3.5.3", "ss(8) --kill"],
      phase: "idle",
      steps: [connect(), exchange(), fault.resetFromHost()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
  ],
});
