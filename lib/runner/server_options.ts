/**
 * The server socket's options of the connection under test, read through pidfd_getfd from
 * whichever process of the server holds it.
 *
 * @module
 */

import type { SocketOptions } from "../results/schema.ts";
import { processTree } from "../process/process_tree.ts";
import { readSocketOptions } from "../observe/socket_options.ts";
import { socketFds } from "../observe/proc_net_tcp.ts";
import type { ScenarioContext } from "./scenario_context.ts";

/**
 * The options of the server's socket, or undefined when no process of the server holds it
 * yet. Read again just before the fault, as a server may set them only after accepting
 * (sshd's child) or hand the socket on (a listener's worker).
 */
export function readServerOptions(ctx: ScenarioContext): SocketOptions | undefined {
  const inode = ctx.serverSocket?.()?.inode;
  if (!inode) return undefined; // not connected, or not accepted yet
  for (const pid of processTree(ctx.server.pid)) {
    const fd = socketFds(pid).get(inode);
    if (fd === undefined) continue;
    try {
      return readSocketOptions(pid, fd);
    } catch {
      // The fd was closed or reused between the lookup and the read: look again.
    }
  }
  return undefined;
}
