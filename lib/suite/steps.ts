/**
 * Scenario steps: what the client does and what goes wrong, in order. Each builder returns
 * plain data, so a suite file reads like the situation it sets up:
 * `[connect(), exchange(), fault.vanish()]`; the step registry (lib/actions/registry.ts)
 * says what each kind does and checks its data.
 *
 * @module
 */

import { isDownStep, type Step, STEP_KINDS } from "../actions/registry.ts";
import type { StepOf } from "../actions/step.ts";
import { type Faults, type FaultStep, faultSteps } from "../faults/registry.ts";
import type { Duration } from "../time/duration.ts";

export { type FaultStep, isDownStep, type Step, STEP_KINDS };

/**
 * Opens the connection under test; a small `rcvBuf` makes its window fill fast. The target's
 * greeting (its protocol's session start, if it has one) follows unless `greet` is false: a
 * client that goes down before its first byte.
 */
export const connect = (options: { rcvBuf?: number; greet?: boolean } = {}): Step => ({
  kind: "connect",
  ...options,
});
/** Sends the target's small request and reads the whole response. */
export const exchange = (): Step => ({ kind: "exchange" });
/** Sends the small request, without reading the response. */
export const sendRequest = (): Step => ({ kind: "send-request" });
/** Sends the first bytes of a request and nothing more. */
export const sendPartial = (): Step => ({ kind: "send-partial" });
/** Asks for a response far larger than any socket buffer, and does not read it. */
export const requestLarge = (): Step => ({ kind: "request-large" });
/** Reads the response of the request sent before. */
export const readResponse = (): Step => ({ kind: "read-response" });
/**
 * Starts reading in the background over a slow link (2 Mbit/s, the client's only), so the
 * server is still sending, with data in flight, when the client goes down.
 */
export const keepReading = (): Step => ({ kind: "keep-reading" });
/**
 * The client stops reading for good while its process runs on (a stuck consumer): the
 * server's data fills its receive buffer, then its kernel answers with a zero window. Ends a
 * `keepReading()` if one runs. Takes the client down: the fault moment is when it stops.
 */
export const stopReading = (): Step => ({ kind: "stop-reading" });
/** `shutdown(SHUT_WR)`: FIN, the client can still read. */
export const halfClose = (): Step => ({ kind: "half-close" });
/** `close()`: FIN, or RST when unread data is in the receive buffer. */
export const close = (): Step => ({ kind: "close" });
/** `SO_LINGER {1,0}` + `close()`: RST. */
export const abort = (): Step => ({ kind: "abort" });
/** SIGKILL the client process: the kernel closes its sockets. */
export const crash = (): Step => ({ kind: "crash" });
/** SIGSTOP the client process: its kernel keeps ACKing, its buffers fill. */
export const freeze = (): Step => ({ kind: "freeze" });
/** SIGCONT the client process. */
export const thaw = (): Step => ({ kind: "thaw" });
/** Waits (a fixed pause in the scenario, not a deadline). */
export const wait = (duration: Duration): Step => ({ kind: "wait", duration });
/** Opens `clients` more connections, each with one exchange, then takes them all down at once. */
export const churn = (clients: number, then: StepOf<"churn">["then"]): Step => ({
  kind: "churn",
  clients,
  then,
});

/**
 * Faults in the router or the client host, one builder per fault of the registry
 * (lib/faults/registry.ts): `fault.vanish()`, `fault.nat("30s", "rst")`, ...
 */
export const fault = Object.fromEntries(
  Object.entries(faultSteps).map(([key, build]) => [
    key,
    (...args: never[]): Step => ({
      kind: "fault",
      fault: (build as (...a: never[]) => FaultStep)(...args),
    }),
  ]),
) as { [K in keyof Faults]: (...args: Parameters<Faults[K]["params"]>) => Step };
