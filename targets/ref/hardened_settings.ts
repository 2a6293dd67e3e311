/**
 * The hardened reference server's socket options and application timeouts, and the
 * command-line flags that override them. Tests and expectations derive every figure from
 * `HARDENED_SETTINGS`; nothing else states these numbers.
 *
 * @module
 */

/** What the hardened server sets on every accepted socket and how long it waits. */
export interface HardenedSettings {
  /** TCP_KEEPIDLE: seconds without traffic before the first keepalive probe. */
  keepIdleSeconds: number;
  /** TCP_KEEPINTVL: seconds between unanswered keepalive probes. */
  keepIntvlSeconds: number;
  /** TCP_KEEPCNT: unanswered probes before the kernel aborts (when no user timeout is set). */
  keepCnt: number;
  /** TCP_USER_TIMEOUT: milliseconds sent data may stay unacknowledged, or a peer silent. */
  userTimeoutMs: number;
  /** Milliseconds with no request before the server closes the connection with FIN. */
  idleTimeoutMs: number;
  /** Milliseconds a started request may take to complete before the server closes. */
  requestTimeoutMs: number;
  /** Milliseconds without write progress before the server aborts with RST. */
  sendTimeoutMs: number;
}

/**
 * The defaults: seconds-scale so tests are quick.
 *
 * userTimeoutMs is keepIdle + keepCnt × keepIntvl on purpose. With TCP_USER_TIMEOUT set,
 * the kernel's keepalive timer (tcp_keepalive_timer) aborts once the time since the peer
 * was last heard reaches the user timeout and at least one probe is out, ignoring
 * TCP_KEEPCNT; without it, once KEEPCNT probes are out. Probes go out at 2, 3 and 4 s and
 * the timer next fires at 5 s, where both rules hold: the abort (RST, then ETIMEDOUT) comes
 * at KEEPIDLE + KEEPCNT × KEEPINTVL after the last traffic under either rule. The same
 * 5 s also bounds retransmissions and zero-window probing, where keepalive does not run.
 */
export const HARDENED_SETTINGS: Readonly<HardenedSettings> = Object.freeze({
  keepIdleSeconds: 2,
  keepIntvlSeconds: 1,
  keepCnt: 3,
  userTimeoutMs: 5000,
  idleTimeoutMs: 30_000,
  requestTimeoutMs: 10_000,
  sendTimeoutMs: 10_000,
});

/** The command-line flag of each setting; each takes one number. */
export const SETTING_FLAGS: Readonly<Record<keyof HardenedSettings, string>> = Object.freeze({
  keepIdleSeconds: "--keepidle",
  keepIntvlSeconds: "--keepintvl",
  keepCnt: "--keepcnt",
  userTimeoutMs: "--user-timeout-ms",
  idleTimeoutMs: "--idle-timeout-ms",
  requestTimeoutMs: "--request-timeout-ms",
  sendTimeoutMs: "--send-timeout-ms",
});

/**
 * The flags that set the given settings.
 *
 * @example
 * ```ts
 * import { settingsFlags } from "./hardened_settings.ts";
 * settingsFlags({ idleTimeoutMs: 500 }); // ["--idle-timeout-ms", "500"]
 * ```
 */
export function settingsFlags(settings: Partial<HardenedSettings>): string[] {
  return (Object.keys(SETTING_FLAGS) as (keyof HardenedSettings)[]).flatMap((key) => {
    const value = settings[key];
    return value === undefined ? [] : [SETTING_FLAGS[key], String(value)];
  });
}
