/**
 * The lab thread: a worker thread of the runner that makes and removes labs' hosts
 * (host_setup.ts). Those system calls wait for kernel locks that other labs' builds and
 * teardowns hold, tens of milliseconds when many labs come and go; on a thread of their own
 * they never hold up the runner's event loop (its timers, its faults). One call at a time, in
 * order. The thread lives while labs do: `endLabThread()` ends it once its calls are answered
 * (a worker keeps its process alive, and starting one costs tens of milliseconds).
 *
 * @module
 */

import type { LabHosts } from "./host_setup.ts";

/** What the lab thread does. */
export type LabOp =
  | { op: "namespaces"; hosts: LabHosts; base?: string }
  | { op: "wire"; hosts: LabHosts }
  | { op: "remove"; names: readonly string[] };

type Reply = { id: number; error?: string };

let worker: Worker | undefined;
let ending = false;
let holders = 0;
let nextId = 1;
const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

function started(): Worker {
  if (worker) return worker;
  const thread = new Worker(new URL("./_lab_worker.ts", import.meta.url), { type: "module" });
  thread.onmessage = ({ data }: MessageEvent<Reply>) => {
    const call = pending.get(data.id);
    pending.delete(data.id);
    stopWhenIdle();
    if (data.error === undefined) call?.resolve();
    else call?.reject(new Error(data.error));
  };
  thread.onerror = (event) => {
    event.preventDefault();
    worker = undefined;
    const error = new Error(`The lab thread failed: ${event.message}`);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker = thread;
  return thread;
}

function stop(): void {
  worker?.terminate();
  worker = undefined;
  ending = false;
}

/** Does `op` on the lab thread; rejects with the thread's error. */
export function onLabThread(op: LabOp): Promise<void> {
  ending = false;
  const id = nextId++;
  const done = new Promise<void>((resolve, reject) => pending.set(id, { resolve, reject }));
  started().postMessage({ id, ...op });
  return done;
}

/**
 * Ends the lab thread once every call made so far is answered (no lab is left to serve) and no
 * run holds it.
 */
export function endLabThread(): void {
  ending = true;
  stopWhenIdle();
}

/** Ends the thread once asked to, no run holds it and no call waits for an answer. */
function stopWhenIdle(): void {
  if (ending && holders === 0 && pending.size === 0) stop();
}

/**
 * Keeps the lab thread, once started, between one lab's teardown and the next lab's build, until
 * the returned function is called (then it ends as `endLabThread()` says).
 */
export function holdLabThread(): () => void {
  holders++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    holders--;
    stopWhenIdle();
  };
}
