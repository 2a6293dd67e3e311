/**
 * The lab threads: worker threads of the runner that make and remove labs' hosts
 * (host_setup.ts). Those system calls wait for kernel locks that other labs' builds and
 * teardowns hold, tens of milliseconds when many labs come and go; on threads of their own
 * they never hold up the runner's event loop (its timers, its faults). Each thread makes one
 * call at a time, in order; a call goes to the least busy of at most one thread per core, so
 * one lab's build does not queue behind another's. The threads live while labs do:
 * `endLabThreads()` ends them once their calls are answered (a worker keeps its process alive,
 * and starting one costs tens of milliseconds).
 *
 * @module
 */

import type { LabHosts } from "./host_setup.ts";

/** What the lab thread does. */
export type LabOp =
  /** Make the namespaces, then wire them: one call, so a lab's build queues once. */
  | { op: "build"; hosts: LabHosts; base?: string }
  | { op: "remove"; names: readonly string[] };

type Reply = { id: number; error?: string };

/**
 * Lab threads at most: one per core. A lab's build waits on kernel locks only part of the time
 * (making a namespace runs every subsystem's setup, most of it outside them), so while one lab
 * waits another's calls go on; more threads than cores would only wait on each other.
 */
const THREADS = Math.max(1, navigator.hardwareConcurrency);

interface LabThread {
  worker: Worker;
  /** Calls posted to it and not yet answered. */
  calls: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
}

const threads: LabThread[] = [];
let ending = false;
let holders = 0;
let nextId = 1;

function newThread(): LabThread {
  const worker = new Worker(new URL("./_lab_worker.ts", import.meta.url), { type: "module" });
  const thread: LabThread = { worker, calls: new Map() };
  worker.onmessage = ({ data }: MessageEvent<Reply>) => {
    const call = thread.calls.get(data.id);
    thread.calls.delete(data.id);
    stopWhenIdle();
    if (data.error === undefined) call?.resolve();
    else call?.reject(new Error(data.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    threads.splice(threads.indexOf(thread), 1);
    const error = new Error(`The lab thread failed: ${event.message}`);
    for (const call of thread.calls.values()) call.reject(error);
    thread.calls.clear();
  };
  threads.push(thread);
  return thread;
}

/** The thread with the fewest calls waiting; a new one while an idle one is lacking and room is left. */
function leastBusy(): LabThread {
  const idle = threads.find((t) => t.calls.size === 0);
  if (idle) return idle;
  if (threads.length < THREADS) return newThread();
  return threads.reduce((a, b) => b.calls.size < a.calls.size ? b : a);
}

function stop(): void {
  for (const thread of threads.splice(0)) thread.worker.terminate();
  ending = false;
}

/** Does `op` on a lab thread; rejects with the thread's error. */
export function onLabThread(op: LabOp): Promise<void> {
  ending = false;
  const id = nextId++;
  const thread = leastBusy();
  const done = new Promise<void>((resolve, reject) => thread.calls.set(id, { resolve, reject }));
  thread.worker.postMessage({ id, ...op });
  return done;
}

/**
 * Ends the lab thread once every call made so far is answered (no lab is left to serve) and no
 * run holds it.
 */
export function endLabThreads(): void {
  ending = true;
  stopWhenIdle();
}

/** Ends the threads once asked to, no run holds them and no call waits for an answer. */
function stopWhenIdle(): void {
  if (ending && holders === 0 && threads.every((t) => t.calls.size === 0)) stop();
}

/**
 * Keeps the lab threads, once started, between one lab's teardown and the next lab's build, until
 * the returned function is called (then it ends as `endLabThreads()` says).
 */
export function holdLabThreads(): () => void {
  holders++;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    holders--;
    stopWhenIdle();
  };
}
