/**
 * What the two reference targets share: how to start the line server and its protocol.
 *
 * @module
 */

import type { StartContext, StartSpec, TargetProtocol } from "../../lib/target/define_target.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { BIG_TRAILER } from "./line_protocol.ts";
import type { LineServerMode } from "./line_server.ts";

/** The payload of the large request: far larger than any socket buffer. */
const BIG_PAYLOAD_BYTES = 64 * 1024 * 1024;

/** The line protocol's exchanges; responseBytes counts the payload and its trailer. */
export const LINE_PROTOCOL: TargetProtocol = {
  request: { send: "PING\n", until: "PONG\n" },
  partialRequest: "PI",
  largeRequest: {
    send: `BIG ${BIG_PAYLOAD_BYTES}\n`,
    responseBytes: BIG_PAYLOAD_BYTES + BIG_TRAILER.length,
  },
};

/** The reference servers are versioned with clientdown itself. */
export function lineServerVersion(): string {
  return `clientdown ${denoJson.version}`;
}

/** A target's `start`: runs line_server.ts with the current Deno in the given mode. */
export function lineServerStart(mode: LineServerMode): (context: StartContext) => StartSpec {
  const script = decodeURIComponent(new URL("./line_server.ts", import.meta.url).pathname);
  return ({ address, port }) => ({
    argv: [
      Deno.execPath(),
      "run",
      "--allow-all",
      // A program of its own: the project's configuration and lockfile are not read (they are
      // for the runner's dependencies), which shortens its start.
      "--no-config",
      "--no-lock",
      script,
      "--mode",
      mode,
      "--address",
      address,
      "--port",
      String(port),
    ],
  });
}
