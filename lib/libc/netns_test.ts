import assert from "node:assert/strict";
import { createLab } from "../lab/lab.ts";
import { inNetns } from "./netns.ts";

const ownNamespace = () => Deno.readLinkSync("/proc/thread-self/ns/net");

Deno.test("inNetns runs its body in the namespace and refuses a nested entry, returning home either way", async () => {
  const lab = await createLab();
  try {
    const home = ownNamespace();
    const seen = inNetns(lab.hosts.server, ownNamespace);
    assert.notEqual(seen, home);
    assert.throws(
      () => inNetns(lab.hosts.client, () => inNetns(lab.hosts.server, ownNamespace)),
      /Cannot enter namespace ".+-srv" from inside ".+-cli"/,
    );
    assert.equal(ownNamespace(), home);
    assert.equal(inNetns(lab.hosts.server, ownNamespace), seen, "a refused nesting leaves no mark");
  } finally {
    await lab.teardown();
  }
});
