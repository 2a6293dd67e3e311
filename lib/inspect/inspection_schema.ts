/**
 * The contract of `inspect --json` (`clientdown/inspect@1`) as a zod schema, the types read
 * from it, and the JSON Schema published beside this file (`inspect.schema.json`) for other
 * tools. A test checks the published file is current and that every inspection validates.
 * Regenerate with `deno task schema`.
 *
 * @module
 */

import { z } from "zod";
import { socketOptionsSchema, tcpSysctlsSchema } from "../results/schema.ts";
import { TCP_STATES } from "../observe/proc_net_tcp.ts";

/** The schema id every inspection carries. */
export const INSPECT_SCHEMA = "clientdown/inspect@1";

/** The longest time an inspection states: 60 days, in milliseconds (keepalive's maximum fits). */
const MAX_MS = 60 * 24 * 3600 * 1000;
const ms = () => z.number().min(0).max(MAX_MS);
const count = () => z.int().min(0).max(2 ** 31 - 1);

const endpointSchema = z.strictObject({
  address: z.string(),
  port: z.int().min(0).max(65535),
});

/** The ways a client goes down that the card gives an exposure for. */
const EXPOSURE_CASES = ["vanish-idle", "vanish-mid-response", "stops-reading"] as const;

/** The kinds of connection that look dead now. */
const DEAD_KINDS = [
  "retransmitting",
  "zero-window",
  "keepalive-probing",
  "half-open-candidate",
  "close-wait",
] as const;

const MECHANISMS = [
  "keepalive",
  "user_timeout",
  "retransmission_timeout",
  "reset_by_peer",
  "zero_window_probes",
  "none",
] as const;

const toleranceSchema = z.strictObject({
  early: ms().describe("How much earlier the release may come, ms"),
  late: ms().describe("How much later the release may come, ms"),
});

const settingsSchema = z.strictObject({
  timeouts: socketOptionsSchema,
  linger: z.strictObject({ on: z.boolean(), seconds: count() }).describe("SO_LINGER"),
  sndbufBytes: count().describe("SO_SNDBUF"),
  rcvbufBytes: count().describe("SO_RCVBUF"),
  nodelay: z.boolean().describe("TCP_NODELAY"),
}).describe("The socket's options, read with getsockopt on a duplicate of it");

const tcpInfoSchema = z.strictObject({
  retransmits: count().describe("tcpi_retransmits: unrecovered timer retransmissions"),
  probes: count().describe("tcpi_probes: unanswered keepalive or zero-window probes"),
  backoff: count().describe("tcpi_backoff"),
  rtoMs: ms().describe("tcpi_rto, backoff included"),
  unacked: count().describe("tcpi_unacked: segments not acknowledged"),
  lastDataSentMs: ms().describe("Since the last data segment sent (a retransmission too)"),
  lastDataRecvMs: ms().describe("Since the last data received from the peer"),
  lastAckRecvMs: ms().describe("Since the last acknowledgment received from the peer"),
  rttMs: ms(),
  totalRetrans: count(),
  notsentBytes: count().exactOptional(),
  sndWnd: count().exactOptional().describe("The peer's advertised window, bytes"),
  totalRtoRecoveries: count().exactOptional(),
  totalRtoTimeMs: ms().exactOptional().describe("Time in retransmission-timeout episodes"),
}).describe("TCP_INFO of the socket at the moment it was read");

const socketSchema = z.strictObject({
  pid: count().describe("The process whose fd was read"),
  fd: count(),
  inode: count(),
  state: z.enum(Object.values(TCP_STATES)),
  local: endpointSchema,
  remote: endpointSchema,
  timer: z.enum(["none", "retransmit", "keepalive", "time_wait", "zero_window_probe"]).describe(
    "The pending timer in /proc/net/tcp",
  ),
  txQueue: count(),
  rxQueue: count(),
  settings: settingsSchema,
  tcpInfo: tcpInfoSchema,
});

const releaseSchema = z.strictObject({
  afterMs: ms().describe("When the kernel releases it, ms after `from`"),
  from: z.enum(["last-traffic", "first-retransmission", "first-zero-window-probe"]),
  toleranceMs: toleranceSchema,
}).describe("A prediction of the kernel model, never a measurement");

const exposureSchema = z.strictObject({
  case: z.enum(EXPOSURE_CASES),
  release: releaseSchema.nullable().describe("null: the kernel alone never releases it"),
  mechanism: z.enum(MECHANISMS),
  decidedBy: z.string().describe("The option or sysctl that decides, with its value"),
  reason: z.string(),
});

const optionGroupSchema = z.strictObject({
  source: z.enum(["accepted", "outbound", "listener"]).describe(
    "Sockets accepted on a listener's port or opened by the server (outbound) with these " +
      "options, or the listener's options when no connection is held",
  ),
  count: count(),
  options: socketOptionsSchema,
  exposures: z.array(exposureSchema),
});

const deadConnectionSchema = z.strictObject({
  pid: count(),
  fd: count(),
  local: endpointSchema,
  remote: endpointSchema,
  silentMs: ms().describe("Nothing heard from the peer for this long"),
  evidence: z.string().describe("What TCP_INFO and the socket table show"),
  releaseInMs: ms().exactOptional().describe("The model's release, ms after the inspection"),
  toleranceMs: toleranceSchema.exactOptional(),
  mechanism: z.enum(MECHANISMS),
});

const deadGroupSchema = z.strictObject({
  kind: z.enum(DEAD_KINDS),
  count: count(),
  meaning: z.string(),
  connections: z.array(deadConnectionSchema),
});

const inspectionObject = z.strictObject({
  schema: z.literal(INSPECT_SCHEMA),
  clientdown: z.string(),
  inspectedAt: z.string().describe("When the sockets were read (ISO 8601)"),
  durationMs: ms().describe("How long reading took"),
  process: z.strictObject({
    pid: count(),
    name: z.string().describe("/proc/PID/comm"),
    exe: z.string().exactOptional(),
    processes: count().describe("Processes in its tree, itself included"),
    netns: z.string().describe("Its network namespace, as /proc/PID/ns/net names it"),
  }),
  kernel: z.strictObject({ release: z.string(), hz: count().exactOptional() }),
  sysctls: tcpSysctlsSchema,
  sockets: z.strictObject({
    listening: count(),
    connected: count(),
    read: count().describe("Sockets whose options and TCP_INFO were read"),
    sampled: z.boolean().describe("Whether only a sample of the connected sockets was read"),
    gone: count().describe("Sockets closed between listing and reading"),
  }),
  listeners: z.array(socketSchema),
  connections: z.array(socketSchema).describe("The connected sockets read"),
  card: z.strictObject({
    listenerOptions: socketOptionsSchema.nullable(),
    groups: z.array(optionGroupSchema),
    acceptedDiffer: z.boolean().describe("Accepted sockets do not all have the same options"),
    differFromListener: z.boolean().describe("Accepted sockets differ from the listener"),
    applicationTimeouts: z.string(),
    knownTarget: z.strictObject({
      id: z.string().describe("The built-in target whose binary the process runs"),
      version: z.string().describe("The version its published report was made with"),
      report: z.string().describe("Its published report, relative to the repository"),
      sooner: z.array(z.strictObject({ variant: z.string(), what: z.string() })).describe(
        "Published variants whose settings release a dead client sooner, with the figures",
      ),
    }).exactOptional(),
  }),
  deadLooking: z.array(deadGroupSchema),
  notes: z.array(z.string()),
}).describe("What a running server's kernel will do with a dead client (clientdown inspect)");

/** One socket as read. */
export type InspectedSocket = z.infer<typeof socketSchema>;
/** The options of a socket beyond its timeouts. */
export type SocketSettings = z.infer<typeof settingsSchema>;
/** A prediction of release. */
export type Release = z.infer<typeof releaseSchema>;
/** One exposure of the card. */
export type Exposure = z.infer<typeof exposureSchema>;
/** Accepted sockets sharing options, with their exposures. */
export type OptionGroup = z.infer<typeof optionGroupSchema>;
/** A connection that looks dead, with its evidence. */
export type DeadConnection = z.infer<typeof deadConnectionSchema>;
/** Connections of one kind that look dead. */
export type DeadGroup = z.infer<typeof deadGroupSchema>;
/** The whole inspection: what `inspect --json` prints. */
export type Inspection = z.infer<typeof inspectionObject>;

/** Checks an inspection; returns the problems zod found, or none. */
export function inspectionProblems(value: unknown): string[] {
  const parsed = inspectionObject.safeParse(value);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
}

/** The JSON Schema of an inspection, generated from the zod schema. */
export function inspectionJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(inspectionObject, { target: "draft-2020-12" }),
    title: `clientdown inspection (${INSPECT_SCHEMA})`,
  };
}

/** The published JSON Schema file, beside this module. */
export const INSPECTION_JSON_SCHEMA_FILE: URL = new URL("./inspect.schema.json", import.meta.url);

/** The JSON Schema file's text, as it must be committed. */
export function inspectionJsonSchemaText(): string {
  return `${JSON.stringify(inspectionJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  await Deno.writeTextFile(INSPECTION_JSON_SCHEMA_FILE, inspectionJsonSchemaText());
  console.log(`Wrote ${INSPECTION_JSON_SCHEMA_FILE.pathname}`);
}
