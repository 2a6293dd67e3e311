/**
 * `ref-hardened`: the reference server that passes every MUST, built in
 * (targets/ref/line_server.ts in `hardened` mode). Exactly what it does, with the values of
 * `HARDENED_SETTINGS`:
 * - one poll() loop over non-blocking sockets: no client can stall another;
 * - on every accepted socket SO_KEEPALIVE=1, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 *   TCP_USER_TIMEOUT, so the kernel aborts a silent peer (RST, ETIMEDOUT) after
 *   keepIdle + keepCnt × keepIntvl seconds, and unacknowledged data or a zero window after
 *   userTimeoutMs;
 * - idle timeout: no request for idleTimeoutMs → close (FIN);
 * - request timeout: a partial request not completed within requestTimeoutMs of its first
 *   byte → close (FIN);
 * - send timeout: no write progress for sendTimeoutMs → abort with SO_LINGER {1,0} (RST),
 *   which frees the send buffer at once;
 * - SIGPIPE ignored and MSG_NOSIGNAL on every send; POLLERR / POLLHUP or a failed call
 *   closes the fd at once, so a socket the kernel ended is freed without delay;
 * - while a response is pending it reads no further requests; after the client's FIN it
 *   finishes the pending response, then closes (FIN).
 * Its log (one line per event, stderr) names accepts with the socket options read back,
 * timeouts, closes (reason, FIN or RST) and errors with errno names.
 *
 * @module
 */

import { defineTarget } from "../lib/target/define_target.ts";
import { HARDENED_SETTINGS } from "./ref/hardened_settings.ts";
import { LINE_PROTOCOL, lineServerStart, lineServerVersion } from "./ref/line_target.ts";

export { HARDENED_SETTINGS, type HardenedSettings } from "./ref/hardened_settings.ts";

const s = HARDENED_SETTINGS;

/** The hardened reference server. */
export default defineTarget({
  id: "ref-hardened",
  title: "Reference server, hardened (non-blocking, keepalive, user timeout, app timeouts)",
  port: 7070,
  start: lineServerStart("hardened"),
  version: lineServerVersion,
  protocol: LINE_PROTOCOL,
  knobs: {
    "SO_KEEPALIVE": "on",
    "TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT":
      `${s.keepIdleSeconds} s / ${s.keepIntvlSeconds} s / ${s.keepCnt} probes`,
    "TCP_USER_TIMEOUT": `${s.userTimeoutMs} ms`,
    "idle timeout": `${s.idleTimeoutMs} ms, then close (FIN)`,
    "request timeout": `${s.requestTimeoutMs} ms for a partial request, then close (FIN)`,
    "send timeout": `${s.sendTimeoutMs} ms without write progress, then abort (RST)`,
    "writes": "non-blocking, one poll() loop: a stalled client stalls no one else",
    "SIGPIPE": "ignored; MSG_NOSIGNAL on every send",
  },
});
