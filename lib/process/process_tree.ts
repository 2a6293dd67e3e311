/**
 * A server and its descendants (forking servers hold client sockets in their workers).
 *
 * @module
 */

/** `pid` and every descendant, breadth first; bounded to 4096 processes. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 4096; i++) out.push(...childrenOf(out[i]!));
  return out;
}

/** The children of `pid` (of each of its threads), from /proc; none once it has exited. */
export function childrenOf(pid: number): number[] {
  let tasks: Iterable<Deno.DirEntry> = [];
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return []; // exited
  }
  const out: number[] = [];
  for (const task of tasks) {
    try {
      const children = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      for (const child of children.split(" ").filter(Boolean)) out.push(Number(child));
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}
