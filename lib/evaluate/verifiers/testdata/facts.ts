/** Facts for verifier tests: a scenario's observations, with what each test sets. */
import { emptyObservations, type Observations } from "../../../observe/observations.ts";
import type { SocketEvent } from "../../../observe/socket_watch.ts";
import { countedRelease, type Facts } from "../verifier.ts";

/** A socket event at `at` ms with the given holding. */
export function socketEvent(at: number, holding: SocketEvent["holding"], fd = 7): SocketEvent {
  const gone = holding === "freed" || holding === "orphaned";
  return {
    at,
    state: holding === "freed" ? "GONE" : holding === "closed_fd_held" ? "CLOSE" : "ESTABLISHED",
    holding,
    inode: gone ? 0 : 1234,
    fd: gone ? undefined : fd,
    txQueue: 0,
    rxQueue: 0,
    timer: "none",
    timerMs: 0,
    retransmits: 0,
    probes: 0,
    changed: ["holding"],
  };
}

/** Facts of a scenario whose fault came at 1000 ms and whose watch ended at `endAt`. */
export function facts(
  change: (obs: Observations) => void = () => {},
  more: Partial<Facts> = {},
): Facts {
  const obs = emptyObservations(60_000);
  obs.run.faultAt = 1000;
  obs.run.endAt = 61_000;
  change(obs);
  return {
    obs,
    release: countedRelease(obs),
    watchedUntil: obs.run.endAt,
    watchedMs: obs.run.endAt - 1000,
    prediction: undefined,
    measurements: {},
    phase: "idle",
    knobs: {},
    ...more,
  };
}

/** A server that died at `at` ms by `signal`. */
export function died(at: number, signal: Deno.Signal | null = "SIGPIPE") {
  return (obs: Observations) => obs.server.exit = { at, code: 141, signal };
}
