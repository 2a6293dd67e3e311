/**
 * The data the `etcd` target's large request reads, and the exact size of etcd's answer to it
 * through the HTTP/JSON gateway (grpc-gateway), so that the target can state `responseBytes`.
 *
 * @module
 */

/** How many keys `prepare` puts: their values, base64 in JSON, make more than 64 MiB. */
export const KEYS = 51;
/** Bytes of each value: under etcd's `--max-request-bytes` (1.5 MiB). */
export const VALUE_BYTES = 1_000_000;
/** The keys' common prefix; the range is [`big/`, `big0`). */
export const PREFIX = "big/";
/** etcd's IDs for a member named "default" with its default peer URL (deterministic). */
const CLUSTER_ID = "14841639068965178418";
const MEMBER_ID = "10276657743932975437";

/** The key of entry `i`: `big/00` … `big/50`. */
export function keyOf(i: number): string {
  return `${PREFIX}${String(i).padStart(2, "0")}`;
}

/** The body of the range request, as the gateway takes it: keys in base64. */
export const RANGE_BODY = JSON.stringify({ key: btoa(PREFIX), range_end: btoa("big0") });

/** The large request: POST /v3/kv/range over HTTP/1.1, on a connection kept open. */
export const RANGE_REQUEST = "POST /v3/kv/range HTTP/1.1\r\nHost: etcd\r\n" +
  `Content-Length: ${RANGE_BODY.length}\r\n\r\n${RANGE_BODY}`;

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/**
 * Bytes of the JSON answer when the keys were put first, one each, on a fresh member: key `i`
 * has revision `i + 2` (the store starts at 1), the header's revision is that of the last put,
 * and a single member's first election makes raft term 2.
 */
function bodyBytes(): number {
  let kvs = 0;
  for (let i = 0; i < KEYS; i++) {
    const revision = String(i + 2);
    kvs += JSON.stringify({
      key: btoa(keyOf(i)),
      create_revision: revision,
      mod_revision: revision,
      version: "1",
      value: "",
    }).length + base64Length(VALUE_BYTES);
  }
  const header = JSON.stringify({
    cluster_id: CLUSTER_ID,
    member_id: MEMBER_ID,
    revision: String(KEYS + 1),
    raft_term: "2",
  });
  return `{"header":${header},"kvs":[],"count":"${KEYS}"}`.length + kvs + (KEYS - 1);
}

/**
 * The whole HTTP response: status line, Go's and the gateway's headers (Date always 29
 * characters), and the body in one chunk (the gateway writes it at once), then the last chunk.
 */
export function rangeResponseBytes(): number {
  const head = [
    "HTTP/1.1 200 OK",
    "Access-Control-Allow-Headers: accept, content-type, authorization",
    "Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, DELETE",
    "Access-Control-Allow-Origin: *",
    "Content-Type: application/json",
    "Grpc-Metadata-Content-Type: application/grpc",
    `Date: ${"D".repeat(29)}`,
    "Transfer-Encoding: chunked",
    "",
    "",
  ].join("\r\n");
  const body = bodyBytes();
  return head.length + `${body.toString(16)}\r\n`.length + body + "\r\n0\r\n\r\n".length;
}
