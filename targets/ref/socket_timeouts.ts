/**
 * The timeout options of an accepted socket, as the reference servers and the runner's odd test
 * server set them and log them: SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 * TCP_USER_TIMEOUT.
 *
 * @module
 */

import {
  getIntOption,
  IPPROTO_TCP,
  setIntOption,
  SO_KEEPALIVE,
  SOL_SOCKET,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_USER_TIMEOUT,
} from "../../lib/libc/libc.ts";

/** Options to set; each one left out keeps the kernel's (the namespace's) value. */
export interface TimeoutOptions {
  keepalive?: boolean;
  keepIdleS?: number;
  keepIntvlS?: number;
  keepCnt?: number;
  userTimeoutMs?: number;
}

/** Sets the given timeout options on `fd`. */
export function setTimeoutOptions(fd: number, options: TimeoutOptions): void {
  if (options.keepalive) setIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (options.keepIdleS !== undefined) {
    setIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE, options.keepIdleS);
  }
  if (options.keepIntvlS !== undefined) {
    setIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL, options.keepIntvlS);
  }
  if (options.keepCnt !== undefined) setIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT, options.keepCnt);
  if (options.userTimeoutMs !== undefined) {
    setIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, options.userTimeoutMs);
  }
}

/** The timeout options `fd` has, as the servers' event logs name them. */
export function timeoutOptions(fd: number): Record<string, number> {
  return {
    keepalive: getIntOption(fd, SOL_SOCKET, SO_KEEPALIVE),
    keepidle: getIntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE),
    keepintvl: getIntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL),
    keepcnt: getIntOption(fd, IPPROTO_TCP, TCP_KEEPCNT),
    user_timeout_ms: getIntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT),
  };
}
