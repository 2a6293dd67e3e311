/**
 * For tests: the server's socket for a connection and its fd, found in the /proc tables.
 *
 * @module
 */

import { readSocketTable, type SocketEntry, socketFds } from "../proc_net_tcp.ts";
import { type Endpoint, isConnectionFrom } from "../socket_watch.ts";

/** The server's socket for the connection from `peer`, and its fd (found by inode). */
export function findServerFd(
  pid: number,
  peer: Endpoint,
  localPort?: number,
): { entry: SocketEntry; fd: number } | undefined {
  const fds = socketFds(pid);
  for (const entry of readSocketTable(pid)) {
    if (entry.inode === 0 || !isConnectionFrom(entry, peer, localPort)) continue;
    const fd = fds.get(entry.inode);
    if (fd !== undefined) return { entry, fd };
  }
  return undefined;
}
