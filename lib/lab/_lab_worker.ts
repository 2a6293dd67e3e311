/**
 * The lab thread's own side (see lab_thread.ts): each message is one operation, answered with
 * its id and, when it failed, the error's message.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { makeNamespaces, removeNamespaces, wire } from "./host_setup.ts";
import type { LabOp } from "./lab_thread.ts";

self.onmessage = ({ data }: MessageEvent<LabOp & { id: number }>) => {
  try {
    if (data.op === "build") {
      makeNamespaces(data.hosts, data.base);
      wire(data.hosts);
    } else removeNamespaces(data.names);
    self.postMessage({ id: data.id });
  } catch (error) {
    self.postMessage({
      id: data.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
