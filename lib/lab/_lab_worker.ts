/**
 * The lab thread's own side (see lab_thread.ts): each message is one operation, answered with
 * its id and, when it failed, the error's message.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { inNetns } from "../libc/netns.ts";
import { loadFaultTables } from "./fault_tables.ts";
import { makeNamespaces, removeNamespaces, wire } from "./host_setup.ts";
import type { LabOp, LabReply } from "./lab_thread.ts";

function perform(op: LabOp): LabReply {
  if (op.op === "namespaces") makeNamespaces(op.hosts, op.base);
  else if (op.op === "wire") wire(op.hosts);
  else if (op.op === "tables") return { missing: [...inNetns(op.router, loadFaultTables)] };
  else removeNamespaces(op.names);
  return {};
}

self.onmessage = ({ data }: MessageEvent<LabOp & { id: number }>) => {
  try {
    self.postMessage({ id: data.id, ...perform(data) });
  } catch (error) {
    self.postMessage({
      id: data.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
