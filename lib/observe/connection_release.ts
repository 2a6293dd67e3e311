/**
 * Whether and when the server released the connection under test: the one place "released"
 * is derived, from the socket watch's events. Released means that no fd of the server's
 * process tree refers to the socket any more (the server closed it, or the kernel freed a
 * socket the server never accepted). A socket the kernel ended (RST, keepalive or
 * retransmission timeout) while the server still holds its fd is not released: it is a leak
 * until the server closes the fd.
 *
 * @module
 */

import type { SocketEvent } from "./socket_watch.ts";

/** What the socket table showed of the server's hold on the connection. */
export interface ConnectionRelease {
  /** Monotonic ms of the first sample at which no fd referred to the socket any more. */
  releasedAt?: number;
  /** Monotonic ms of the sample before it, when there was one: not released yet then. */
  notYetAt?: number;
  /** Monotonic ms at which the kernel ended the socket while the server still held its fd. */
  kernelEndedAt?: number;
  /** The server's fd for the socket, when the kernel ended it under the fd. */
  heldFd?: number;
  /** Whether the server ever held the socket (accepted it). */
  everHeld: boolean;
}

/**
 * Derives the release from the watch's events, oldest first.
 *
 * @example
 * ```ts
 * import { connectionRelease } from "./connection_release.ts";
 * connectionRelease([]); // { everHeld: false }: never seen
 * ```
 */
export function connectionRelease(events: readonly SocketEvent[]): ConnectionRelease {
  let everHeld = false;
  let kernelEnded: SocketEvent | undefined;
  for (const e of events) {
    if (e.holding === "held") everHeld = true;
    else if (e.holding === "closed_fd_held") {
      everHeld = true;
      kernelEnded ??= e;
    } else if (e.holding === "orphaned" || e.holding === "freed") {
      // The server closed it (orphaned: seen held or not, only its close leads there), or the
      // kernel freed a socket the server never accepted.
      return {
        releasedAt: e.at,
        ...(e.previousSampleAt === undefined ? {} : { notYetAt: e.previousSampleAt }),
        ...(kernelEnded ? { kernelEndedAt: kernelEnded.at } : {}),
        everHeld,
      };
    }
  }
  return kernelEnded
    ? {
      kernelEndedAt: kernelEnded.at,
      ...(kernelEnded.fd === undefined ? {} : { heldFd: kernelEnded.fd }),
      everHeld,
    }
    : { everHeld };
}
