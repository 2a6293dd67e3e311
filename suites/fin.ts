/**
 * fin: the client closes cleanly (`close()`, `shutdown(SHUT_WR)`) and the server receives
 * a FIN. Its read() returns 0 and its socket waits in CLOSE_WAIT until the application closes
 * its side (RFC 9293 §3.6: "the user will respond with a CLOSE"). No TCP timer frees
 * that fd: a server that misses the EOF leaks one fd per clean disconnect, without bound.
 * That is why releasing on EOF is a MUST here. A close in the middle of a response is
 * where servers die: the client's kernel answers further data with RST (and sends RST at
 * once if unread data sits in its buffer), so the server's next write fails with EPIPE and
 * raises SIGPIPE unless the server ignores it or sends with MSG_NOSIGNAL.
 *
 * Budget: the server has been told, so the time counted is only its own reaction: 1 s is
 * generous for any event loop (the runner polls the socket table every 15 ms) and still
 * catches a server that only notices the EOF on its next timer tick.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import {
  othersServed,
  released,
  responseDelivered,
  serverAlive,
} from "../lib/suite/expectations.ts";
import {
  close,
  connect,
  exchange,
  halfClose,
  keepReading,
  readResponse,
  requestLarge,
  sendPartial,
  sendRequest,
} from "../lib/suite/steps.ts";

/** The fin family: the client closes cleanly. */
export default defineSuite({
  id: "fin",
  title: "Client closes the connection cleanly (FIN)",
  scenarios: [
    {
      id: "fin/idle",
      title: "Client closes an idle connection",
      requirement:
        "A server closes its side and frees the connection when the client of an idle connection closes it cleanly",
      level: "MUST",
      refs: ["RFC 9293 §3.6", "RFC 1122 §4.2.2.13", "recv(2)"],
      phase: "idle",
      steps: [connect(), exchange(), close()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
    {
      id: "fin/mid-request",
      title: "Client closes in the middle of a request",
      requirement:
        "A server drops a partial request and frees the connection when the client closes before finishing it",
      level: "MUST",
      refs: ["RFC 9293 §3.6", "RFC 1122 §4.2.2.13", "recv(2)"],
      phase: "mid-request",
      steps: [connect(), sendPartial(), close()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
    {
      // TCP lets the server keep sending on a half-closed connection, but an application
      // protocol may define EOF as "cancel": a SHOULD, not a MUST.
      id: "fin/half-close",
      title: "Client half-closes after a complete request",
      requirement:
        "A server still delivers the response to a complete request after the client half-closes, then closes its side",
      level: "SHOULD",
      refs: ["RFC 9293 §3.6.1", "RFC 1122 §4.2.2.13", "shutdown(2)"],
      phase: "after-request",
      steps: [connect(), sendRequest(), halfClose(), readResponse()],
      expect: [responseDelivered(), released({ within: "1s" }), serverAlive()],
    },
    {
      id: "fin/mid-response",
      title: "Client closes in the middle of a response",
      requirement:
        "A server keeps running, stops sending and frees the connection when the client closes in the middle of a response",
      level: "MUST",
      refs: ["RFC 9293 §3.6.1", "RFC 9293 §3.5.3", "send(2) MSG_NOSIGNAL", "signal(7) SIGPIPE"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), close()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
  ],
});
