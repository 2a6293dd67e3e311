/**
 * crash: the client process is killed (SIGKILL) and its kernel closes its sockets for it:
 * FIN when the receive buffer is empty, RST when unread data sits in it (net/ipv4/tcp.c,
 * __tcp_close()). The host stays up, so the server hears about it at once. Whatever it
 * hears, it must keep running (a write after the RST raises SIGPIPE) and must close the
 * fd, which nothing else will close.
 *
 * Budget: 1 s, the server's own reaction time, as in the fin and rst families.
 *
 * @module
 */

import { defineSuite } from "../lib/suite/define_suite.ts";
import { othersServed, released, serverAlive } from "../lib/suite/expectations.ts";
import {
  connect,
  crash,
  exchange,
  keepReading,
  requestLarge,
  sendPartial,
  sendRequest,
  wait,
} from "../lib/suite/steps.ts";

/** The crash family: the client process is killed, its host stays up. */
export default defineSuite({
  id: "crash",
  title: "Client process killed (SIGKILL), its kernel closes the sockets",
  scenarios: [
    {
      id: "crash/idle",
      title: "Client process killed on an idle connection",
      requirement:
        "A server frees an idle connection when the client process is killed and its kernel closes the socket",
      level: "MUST",
      refs: ["RFC 9293 §3.6", "_exit(2)", "signal(7) SIGKILL"],
      phase: "idle",
      steps: [connect(), exchange(), crash()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
    {
      id: "crash/mid-request",
      title: "Client process killed in the middle of a request",
      requirement:
        "A server drops a partial request and frees the connection when the client process is killed before finishing it",
      level: "MUST",
      refs: ["RFC 9293 §3.6", "_exit(2)", "signal(7) SIGKILL"],
      phase: "mid-request",
      steps: [connect(), sendPartial(), crash()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
    {
      id: "crash/mid-response",
      title: "Client process killed in the middle of a response",
      requirement:
        "A server keeps running and frees the connection when the client process is killed in the middle of a response",
      level: "MUST",
      refs: ["RFC 9293 §3.6.1", "RFC 9293 §3.5.3", "send(2) MSG_NOSIGNAL", "signal(7) SIGPIPE"],
      phase: "mid-response",
      steps: [connect(), requestLarge(), keepReading(), crash()],
      expect: [released({ within: "1s" }), serverAlive(), othersServed()],
    },
    {
      id: "crash/unread-response",
      title: "Client process killed with an unread response in its buffer",
      requirement:
        "A server frees the connection when the client process is killed with an unread response in its receive buffer, which makes its kernel send RST",
      level: "MUST",
      refs: ["RFC 9293 §3.6.1", "RFC 2525 §2.17", "_exit(2)"],
      phase: "after-request",
      steps: [connect(), sendRequest(), wait("500ms"), crash()],
      expect: [released({ within: "1s" }), serverAlive()],
    },
  ],
});
