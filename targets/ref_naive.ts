/**
 * `ref-naive`: the reference server that fails the MUSTs, built in (targets/ref/line_server.ts
 * in `naive` mode). Exactly what it does:
 * - one thread; a poll() loop accepts and reads, but each response is written at once with
 *   blocking write() calls: a client that stops reading blocks the whole server, and every
 *   other client waits (new ones are only queued by the kernel);
 * - no SO_KEEPALIVE, no TCP_USER_TIMEOUT, no idle, request or send timeout: a vanished or
 *   silent client holds its socket until the kernel's own retransmission timeout, if ever;
 * - SIGPIPE keeps its default action and writes use plain write() without MSG_NOSIGNAL;
 *   write errors are logged and ignored, so after a client's RST the next write raises
 *   SIGPIPE and the process dies;
 * - it closes (FIN) when a client closes (read returns 0) or a read fails.
 * Its log (one line per event, stderr) names accepts, closes and errors with errno names.
 *
 * @module
 */

import { defineTarget } from "../lib/target/define_target.ts";
import { LINE_PROTOCOL, lineServerStart, lineServerVersion } from "./ref/line_target.ts";

/** The naive reference server. */
export default defineTarget({
  id: "ref-naive",
  title: "Reference server, naive (blocking writes, no keepalive, no timeouts, dies on SIGPIPE)",
  port: 7070,
  start: lineServerStart("naive"),
  version: lineServerVersion,
  protocol: LINE_PROTOCOL,
  knobs: {
    "SO_KEEPALIVE": "off",
    "TCP_USER_TIMEOUT": "unset (kernel default: retransmissions give up after ~15 min)",
    "idle timeout": "none",
    "request timeout": "none",
    "send timeout": "none",
    "writes": "blocking, in the single server thread: one stalled client stalls everyone",
    "SIGPIPE": "default action (process dies); write errors ignored; no MSG_NOSIGNAL",
  },
});
