import assert from "node:assert/strict";
import { connectionRelease } from "./connection_release.ts";
import type { SocketEvent } from "./socket_watch.ts";

function at(t: number, holding: SocketEvent["holding"], state: SocketEvent["state"]): SocketEvent {
  return {
    at: t,
    state,
    holding,
    inode: holding === "held" || holding === "closed_fd_held" ? 99 : 0,
    fd: holding === "held" || holding === "closed_fd_held" ? 5 : undefined,
    txQueue: 0,
    rxQueue: 0,
    timer: "none",
    timerMs: 0,
    retransmits: 0,
    probes: 0,
    changed: ["holding"],
  };
}

Deno.test("released when no fd refers to the socket: the server's close, or the kernel's free", () => {
  assert.deepEqual(
    connectionRelease([at(1, "held", "ESTABLISHED"), at(9, "orphaned", "FIN_WAIT1")]),
    { releasedAt: 9, everHeld: true },
  );
  // A half-open connection the server never accepted is released when the kernel frees it.
  assert.deepEqual(connectionRelease([at(1, "pending", "SYN_RECV"), at(5, "freed", "GONE")]), {
    releasedAt: 5,
    everHeld: false,
  });
});

Deno.test("a server that answers and closes between two samples released it, unseen held", () => {
  // Connection: close servers (gunicorn's sync worker, HTTP/1.0): accept queue, then FIN_WAIT.
  assert.deepEqual(
    connectionRelease([at(1, "pending", "ESTABLISHED"), at(16, "orphaned", "FIN_WAIT2")]),
    { releasedAt: 16, everHeld: false },
  );
});

Deno.test("the kernel's CLOSE under a held fd is not a release; the fd's close later is", () => {
  const leak = [at(1, "held", "ESTABLISHED"), at(7, "closed_fd_held", "CLOSE")];
  assert.deepEqual(connectionRelease(leak), { kernelEndedAt: 7, heldFd: 5, everHeld: true });
  assert.deepEqual(connectionRelease([...leak, at(30, "freed", "GONE")]), {
    releasedAt: 30,
    kernelEndedAt: 7,
    everHeld: true,
  });
});
