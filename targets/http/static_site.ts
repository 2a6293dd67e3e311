/**
 * What the HTTP/1.1 targets (nginx, lighttpd, apache2) share: a tiny static site in the lab
 * directory and the exchanges the scenarios make against it. HTTP/1.1 connections are
 * persistent unless a side says otherwise (RFC 9112 §9.3), so every exchange leaves the
 * connection open and idle, as a keep-alive client would.
 *
 * @module
 */

import type { TargetProtocol } from "../../lib/target/define_target.ts";

/** The document root, relative to the lab directory. */
export const SITE_ROOT = "www";

/**
 * The last bytes of the small response. It is the very end of the body (and so of the
 * response, which has a Content-Length): reading up to it leaves nothing unread, so a later
 * `close()` sends FIN, not the RST that unread data would cause.
 */
export const SMALL_RESPONSE_END = "clientdown-end-of-response\n";

/** The size of the large file's body: far larger than any socket buffer. */
export const LARGE_BODY_BYTES = 64 * 1024 * 1024;

const HOST = "Host: clientdown.test\r\n";

/**
 * The exchanges. `largeRequest.responseBytes` counts the body alone: the headers come on top,
 * so a reader that stops there has consumed the body's bulk, never waited for bytes that
 * cannot come.
 */
export const HTTP_PROTOCOL: TargetProtocol = {
  request: { send: `GET /small.txt HTTP/1.1\r\n${HOST}\r\n`, until: SMALL_RESPONSE_END },
  // The header block has not ended (no empty line): the server must wait for the rest.
  partialRequest: `GET /small.txt HTTP/1.1\r\n${HOST}`,
  largeRequest: {
    send: `GET /large.bin HTTP/1.1\r\n${HOST}\r\n`,
    responseBytes: LARGE_BODY_BYTES,
  },
};

/** The site's small file, for a StartSpec's `files`. */
export const SITE_FILES: Record<string, string> = {
  [`${SITE_ROOT}/small.txt`]: `clientdown: a small static file\n${SMALL_RESPONSE_END}`,
};

/**
 * Makes the large file, for a StartSpec's `prepare` (run in the lab directory). It is sparse:
 * 64 MiB of zeros that cost neither disk nor memory; the server reads them as any file.
 */
export const MAKE_LARGE_FILE: string[] = [
  "truncate",
  "--size",
  String(LARGE_BODY_BYTES),
  `${SITE_ROOT}/large.bin`,
];

/** `address:port`, an IPv6 address in brackets, as HTTP servers write a listen address. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
