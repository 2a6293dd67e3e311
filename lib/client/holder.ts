/**
 * The holder: a small process (`cat` reading a pipe from the runner, about 1 MB) that holds a
 * client's sockets
 * besides the runner, so that the client's process-level faults have a process to act on. The
 * runner drives the sockets; the holder only keeps them open. For a crash the runner closes its
 * own descriptors first, then SIGKILLs the holder: the kernel closes the sockets as the holder
 * exits, as for any process that dies (FIN, or RST with unread data). For a freeze the holder is
 * SIGSTOPped and the runner stops reading and sending: the kernel keeps ACKing.
 *
 * A process gets descriptors only when it starts, so a holder is replaced each time the set of
 * sockets changes (each starts with the descriptors of the one before, and the old one ends).
 * It reads its stdin, a pipe only the runner can write to: should the runner die, even by
 * SIGKILL, the pipe ends and so does the holder, and with it the last hold on the lab's sockets.
 *
 * @module
 */

import { check, F_SETFD, FD_CLOEXEC, libc } from "../libc/libc.ts";
import { type Child, spawn } from "../process/spawn.ts";

/**
 * Starts a holder that inherits `fds`. The descriptors lose FD_CLOEXEC only for the spawn
 * itself: the sequence is synchronous, so no other process the runner starts inherits them.
 */
export function spawnHolder(fds: readonly number[]): Child {
  const cleared: number[] = [];
  try {
    for (const fd of fds) {
      check("fcntl(F_SETFD)", libc().fcntl(fd, F_SETFD, 0));
      cleared.push(fd);
    }
    return spawn(["cat"], { detached: true, stdin: "piped" });
  } finally {
    for (const fd of cleared) libc().fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

/**
 * SIGKILLs a holder (synchronously, before this returns its promise); resolves once it has
 * exited and the runner's end of its pipe is closed.
 */
export async function killHolder(holder: Child): Promise<void> {
  holder.signal("SIGKILL");
  await holder.status;
  await holder.process.stdin.close().catch(() => {}); // its reader is gone
}
