/**
 * `odd`: the purpose-built test server (odd_server.ts) as a target, one variant per behaviour
 * the evaluation fixtures and the kernel-model measurements need. Run one with
 * `deno task suite <scenario> --target lib/runner/testdata/odd_target.ts@<variant>`.
 *
 * The default has no keepalive, no TCP_USER_TIMEOUT and no application timeout: the kernel's
 * own defaults alone decide.
 *
 * @module
 */

import {
  defineTarget,
  type TargetDefinition,
  type TargetVariant,
} from "../../target/define_target.ts";
import { LINE_PROTOCOL, lineServerVersion } from "../../../targets/ref/line_target.ts";
import type { OddServerConfig } from "./odd_server.ts";

/** What an odd server variant does: every flag but the address and port. */
export type OddBehaviour = Omit<OddServerConfig, "address" | "port">;

export type { OddServerConfig, TargetDefinition };

const FLAG: Record<keyof OddBehaviour, string> = {
  keepalive: "--keepalive",
  keepIdleS: "--keepidle",
  keepIntvlS: "--keepintvl",
  keepCnt: "--keepcnt",
  userTimeoutMs: "--user-timeout-ms",
  leak: "--leak",
  pushAfterMs: "--push-after-ms",
  pushBytes: "--push-bytes",
  exitAfterMs: "--exit-after-ms",
  exitOnError: "--exit-on-error",
};

/** The command-line flags of a behaviour. */
export function oddServerFlags(behaviour: OddBehaviour): string[] {
  return (Object.keys(FLAG) as (keyof OddBehaviour)[]).flatMap((key) => {
    const value = behaviour[key];
    if (value === undefined) return [];
    return [FLAG[key], typeof value === "boolean" ? (value ? "1" : "0") : String(value)];
  });
}

const SCRIPT = decodeURIComponent(new URL("./odd_server.ts", import.meta.url).pathname);

function start(behaviour: OddBehaviour): TargetVariant["start"] {
  return ({ address, port }) => ({
    argv: [
      Deno.execPath(),
      "run",
      "--allow-all",
      SCRIPT,
      "--address",
      address,
      "--port",
      String(port),
      ...oddServerFlags(behaviour),
    ],
  });
}

const SHORT = { keepalive: true, keepIdleS: 2, keepIntvlS: 1, keepCnt: 3 } as const;

/** Each behaviour, with its knobs in words. */
export const ODD_VARIANTS: Record<string, { title: string; behaviour: OddBehaviour }> = {
  "keepalive-short": {
    title: "keepalive 2 s + 3 × 1 s, no TCP_USER_TIMEOUT",
    behaviour: SHORT,
  },
  "keepalive-long": {
    title: "keepalive with the OS defaults (7200 s + 9 × 75 s)",
    behaviour: { keepalive: true },
  },
  "keepalive-user-timeout": {
    title: "keepalive 2 s + 3 × 1 s with TCP_USER_TIMEOUT 4.5 s (between two probe firings)",
    behaviour: { ...SHORT, userTimeoutMs: 4500 },
  },
  "user-timeout": {
    title: "TCP_USER_TIMEOUT 5 s, no keepalive",
    behaviour: { userTimeoutMs: 5000 },
  },
  "leak": {
    title: "keepalive 2 s + 3 × 1 s; never closes an fd after EOF or an error (a leak)",
    behaviour: { ...SHORT, leak: true },
  },
  "late-writer": {
    title: "writes 1000 bytes 5 s after the last exchange; TCP_USER_TIMEOUT 3 s, no keepalive",
    behaviour: { pushAfterMs: 5000, userTimeoutMs: 3000 },
  },
  "late-writer-retries2": {
    title: "writes 1000 bytes 5 s after the last exchange; no keepalive, no TCP_USER_TIMEOUT",
    behaviour: { pushAfterMs: 5000 },
  },
  "dies": {
    title: "exits 3 s after its first accept",
    behaviour: { exitAfterMs: 3000 },
  },
  "dies-on-error": {
    title: "exits at the first error or EOF of a connection",
    behaviour: { exitOnError: true },
  },
};

/** The odd test server. */
const odd: TargetDefinition = defineTarget({
  id: "odd",
  title: "Test server: line protocol, exact socket options, no application timeouts",
  port: 7070,
  start: start({}),
  version: lineServerVersion,
  protocol: LINE_PROTOCOL,
  knobs: { "SO_KEEPALIVE": "off", "TCP_USER_TIMEOUT": "0", "application timeouts": "none" },
  variants: Object.fromEntries(
    Object.entries(ODD_VARIANTS).map(([name, { title, behaviour }]) => [name, {
      title,
      knobs: Object.fromEntries(
        oddServerFlags(behaviour).flatMap((v, i, all) =>
          i % 2 === 0 ? [[v.replace(/^--/, ""), all[i + 1] ?? ""]] : []
        ),
      ),
      start: start(behaviour),
    }]),
  ),
});

export default odd;
