/**
 * The reference line server: one program, two behaviours (`--mode naive|hardened`), one
 * small line protocol (see line_protocol.ts). Sockets come from libc through Deno.dlopen,
 * because Deno's own net API cannot set keepalive timers, TCP_USER_TIMEOUT or SO_LINGER.
 *
 * ```sh
 * deno run --allow-all targets/ref/line_server.ts --mode hardened \
 *   --address 198.51.100.2 --port 7070 [--keepidle 2 --idle-timeout-ms 30000 ...]
 * ```
 *
 * Needs --allow-ffi. Logs one line per event to stderr (see event_log.ts); exits with code 2
 * on a usage error, 1 when a socket call fails.
 *
 * @module
 */

import { logEvent } from "./event_log.ts";
import { serveHardened } from "./hardened_loop.ts";
import { HARDENED_SETTINGS, type HardenedSettings, SETTING_FLAGS } from "./hardened_settings.ts";
import { openListener } from "./listen_socket.ts";
import { serveNaive } from "./naive_loop.ts";

/** The two behaviours of the line server. */
export type LineServerMode = "naive" | "hardened";

/** A parsed command line. */
export interface LineServerConfig {
  /** Which behaviour to serve with. */
  mode: LineServerMode;
  /** A literal IPv4 or IPv6 address to listen on. */
  address: string;
  /** The port to listen on. */
  port: number;
  /** Used in hardened mode only. */
  settings: HardenedSettings;
}

/** Settings the kernel rejects as 0 (keepalive timers), and the rest (0 is allowed). */
const AT_LEAST_ONE = new Set<keyof HardenedSettings>([
  "keepIdleSeconds",
  "keepIntvlSeconds",
  "keepCnt",
  "idleTimeoutMs",
  "requestTimeoutMs",
  "sendTimeoutMs",
]);

/**
 * Parses the line server's command line; throws TypeError on a usage error.
 *
 * @example
 * ```ts
 * import { parseLineServerArgs } from "./line_server.ts";
 * parseLineServerArgs(["--mode", "naive", "--address", "::1", "--port", "7070"]);
 * ```
 */
export function parseLineServerArgs(args: readonly string[]): LineServerConfig {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? "";
    const value = args[i + 1];
    if (!flag.startsWith("--") || value === undefined) {
      throw new TypeError(`Expected "--flag value" pairs, got: "${flag}"`);
    }
    values.set(flag, value); // the last one wins, so callers can append overrides
  }
  const mode = values.get("--mode");
  if (mode !== "naive" && mode !== "hardened") {
    throw new TypeError(`Invalid --mode: "${mode}" (expected "naive" or "hardened")`);
  }
  const address = values.get("--address");
  if (!address) throw new TypeError("Missing --address");
  const settings: HardenedSettings = { ...HARDENED_SETTINGS };
  for (const [key, flag] of Object.entries(SETTING_FLAGS) as [keyof HardenedSettings, string][]) {
    const text = values.get(flag);
    if (text !== undefined) settings[key] = integer(flag, text, AT_LEAST_ONE.has(key) ? 1 : 0);
  }
  const known = new Set(["--mode", "--address", "--port", ...Object.values(SETTING_FLAGS)]);
  const unknown = [...values.keys()].find((flag) => !known.has(flag));
  if (unknown) throw new TypeError(`Unknown flag: "${unknown}"`);
  return { mode, address, port: integer("--port", values.get("--port") ?? "", 1), settings };
}

function integer(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`Invalid ${flag}: "${text}" (expected an integer >= ${min})`);
  }
  return value;
}

/** Listens and serves forever. */
function serve(config: LineServerConfig): never {
  const listener = openListener(config.address, config.port, config.mode === "hardened");
  logEvent("listen", {
    mode: config.mode,
    address: config.address,
    port: config.port,
    ...(config.mode === "hardened" ? config.settings : {}),
  });
  return config.mode === "hardened"
    ? serveHardened(listener, config.settings)
    : serveNaive(listener);
}

if (import.meta.main) {
  let config: LineServerConfig;
  try {
    config = parseLineServerArgs(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(2);
  }
  try {
    serve(config);
  } catch (error) {
    logEvent("fatal", { message: JSON.stringify(String(error)) });
    Deno.exit(1);
  }
}
