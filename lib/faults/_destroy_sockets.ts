/**
 * Socket destroy in the client host (`ss -K`, the kernel's SOCK_DESTROY): the client's TCP
 * sockets to the server die at once, and the kernel sends an RST for each.
 *
 * @module
 */

import { type DualAddress, SERVER } from "../lab/address_plan.ts";
import { run } from "../process/spawn.ts";

/** Which of the client's connections to destroy. */
export interface ConnectionSelector {
  client: DualAddress;
  /** The server's port; any when absent. */
  serverPort?: number;
  /** The client's own port; any when absent. */
  localPort?: number;
}

/** The ss filter for the client's connections to the server (both families). */
export function connectionFilter(selector: ConnectionSelector): string {
  const { client, serverPort, localPort } = selector;
  return [
    `( src ${client.v4} or src [${client.v6}] )`,
    `( dst ${SERVER.v4} or dst [${SERVER.v6}] )`,
    ...(serverPort === undefined ? [] : [`dport = :${serverPort}`]),
    ...(localPort === undefined ? [] : [`sport = :${localPort}`]),
  ].join(" and ");
}

/** Destroys the selected sockets in `netns`; resolves with how many the kernel destroyed. */
export async function destroySockets(netns: string, selector: ConnectionSelector): Promise<number> {
  // ss lists only the sockets the kernel did destroy (it skips those it refused).
  const out = await run(["ss", "-K", "-t", "-n", "-H", connectionFilter(selector)], { netns });
  return out.stdout.split("\n").filter((line) => line.trim()).length;
}
