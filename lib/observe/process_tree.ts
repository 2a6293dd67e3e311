/**
 * A server and its descendants (forking servers hold client sockets in their workers).
 *
 * @module
 */

/** `pid` and every descendant, breadth first; bounded to 4096 processes. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 4096; i++) {
    const parent = out[i] as number;
    let tasks: Iterable<Deno.DirEntry> = [];
    try {
      tasks = Deno.readDirSync(`/proc/${parent}/task`);
    } catch {
      continue; // exited
    }
    for (const task of tasks) {
      try {
        const children = Deno.readTextFileSync(`/proc/${parent}/task/${task.name}/children`);
        for (const child of children.split(" ").filter(Boolean)) out.push(Number(child));
      } catch {
        // the thread exited meanwhile
      }
    }
  }
  return out;
}
