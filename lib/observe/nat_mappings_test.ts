import assert from "node:assert/strict";
import { parseConntrackList } from "./nat_mappings.ts";

Deno.test("parseConntrackList reads both tuples, state, timeout and flags", () => {
  const text = [
    "tcp      6 117 ESTABLISHED src=192.0.2.2 dst=198.51.100.2 sport=40000 dport=8080 " +
    "src=198.51.100.2 dst=203.0.113.1 sport=8080 dport=40001 [ASSURED] mark=0 use=1",
    "tcp      6 9 SYN_SENT src=192.0.2.2 dst=198.51.100.2 sport=40002 dport=8080 [UNREPLIED] " +
    "src=198.51.100.2 dst=203.0.113.1 sport=8080 dport=40002 mark=0 use=1",
    "udp      17 29 src=192.0.2.2 dst=198.51.100.2 sport=5353 dport=53 [UNREPLIED] " +
    "src=198.51.100.2 dst=203.0.113.1 sport=53 dport=5353 mark=0 use=1",
    "",
  ].join("\n");
  const [first, second, ...rest] = parseConntrackList(text);
  assert.deepEqual(rest, []);
  assert.deepEqual(first && { ...first, line: "" }, {
    state: "ESTABLISHED",
    timeoutS: 117,
    original: { src: "192.0.2.2", dst: "198.51.100.2", sport: 40000, dport: 8080 },
    reply: { src: "198.51.100.2", dst: "203.0.113.1", sport: 8080, dport: 40001 },
    assured: true,
    line: "",
  });
  assert.equal(second?.state, "SYN_SENT");
  assert.equal(second?.assured, false);
  assert.equal(second?.reply.dport, 40002);
});
