/**
 * PostgreSQL frontend messages (protocol 3.0, "Message Formats" in the PostgreSQL docs) as
 * strings the client agent can send, and the backend messages that end a reply, as strings it
 * can wait for. The agent sends and matches UTF-8, which is the bytes themselves only below
 * 0x80: every message is checked to stay there (lengths under 128 bytes, ASCII text).
 *
 * @module
 */

/** Protocol version 3.0 as the StartupMessage carries it. */
const PROTOCOL_3_0 = 196608;

/** ReadyForQuery with status idle: the last message of every completed reply. */
export const READY_FOR_QUERY_IDLE = "Z\0\0\0\x05I";

/** A big-endian Int32 as four characters. */
function int32(n: number): string {
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function sevenBit(message: string, what: string): string {
  for (let i = 0; i < message.length; i++) {
    const code = message.charCodeAt(i);
    if (code >= 0x80) {
      throw new RangeError(
        `Invalid ${what}: byte "${code}" at "${i}" is not below 0x80 (the agent sends UTF-8)`,
      );
    }
  }
  return message;
}

/**
 * A StartupMessage for protocol 3.0 with the given parameters (e.g. user, database).
 *
 * @example
 * ```ts
 * import { startupMessage } from "./frontend_message.ts";
 * const hello = startupMessage({ user: "postgres", database: "postgres" });
 * ```
 */
export function startupMessage(parameters: Record<string, string>): string {
  const body = int32(PROTOCOL_3_0) +
    Object.entries(parameters).map(([key, value]) => `${key}\0${value}\0`).join("") + "\0";
  return sevenBit(int32(body.length + 4) + body, "StartupMessage");
}

/**
 * A simple Query message.
 *
 * @example
 * ```ts
 * import { queryMessage } from "./frontend_message.ts";
 * const one = queryMessage("SELECT 1");
 * ```
 */
export function queryMessage(sql: string): string {
  const body = `${sql}\0`;
  return sevenBit(`Q${int32(body.length + 4)}${body}`, "Query message");
}

/**
 * The CommandComplete a successful command's reply carries, e.g. tag `SELECT 1` after a query
 * returning one row.
 *
 * @example
 * ```ts
 * import { commandComplete, READY_FOR_QUERY_IDLE } from "./frontend_message.ts";
 * const succeeded = commandComplete("SELECT 1") + READY_FOR_QUERY_IDLE;
 * ```
 */
export function commandComplete(tag: string): string {
  const body = `${tag}\0`;
  return sevenBit(`C${int32(body.length + 4)}${body}`, "CommandComplete message");
}
