import assert from "node:assert/strict";
import { CLIENT } from "../lab/address_plan.ts";
import { createLab } from "../lab/lab.ts";
import { AF_INET, check, libc, SOCK_CLOEXEC, SOCK_STREAM, sockaddr } from "../libc/libc.ts";
import { socketIn } from "./netns_socket.ts";
import { serverConnection, startEchoServer } from "./testdata/echo_fixture.ts";

const ownNamespace = () => Deno.readLinkSync("/proc/thread-self/ns/net");

/** ioctl SIOCGSKNS: an fd of the socket's network namespace, read as `net:[inode]`. */
function namespaceOf(socket: number): string {
  const ns = check("ioctl(SIOCGSKNS)", libc().ioctl(socket, 0x894cn, new Uint8Array(0)));
  try {
    return Deno.readLinkSync(`/proc/self/fd/${ns}`);
  } finally {
    libc().close(ns);
  }
}

Deno.test("socketIn makes the socket in the lab's client host and leaves the thread where it was", async () => {
  const lab = await createLab();
  const server = await startEchoServer(lab, "v4").catch(async (error) => {
    await lab.teardown();
    throw error;
  });
  const fds: number[] = [];
  try {
    const before = ownNamespace();
    const fd = socketIn(lab.hosts.client, AF_INET, SOCK_STREAM | SOCK_CLOEXEC);
    fds.push(fd);
    assert.equal(ownNamespace(), before, "the thread is back in its own namespace");
    // The client's address exists only in the client host: binding it proves where the socket is.
    const local = sockaddr(CLIENT.v4, 0);
    check("bind", libc().bind(fd, local, local.length));
    const remote = sockaddr(server.address, server.port);
    check("connect", libc().connect(fd, remote, remote.length));
    const seen = await serverConnection(server);
    assert.equal(seen.remote.address, CLIENT.v4);
    // The kernel names the socket's namespace (SIOCGSKNS): the lab's, not the runner's.
    assert.equal(namespaceOf(fd), `net:[${Deno.statSync(`/run/netns/${lab.hosts.client}`).ino}]`);
    const here = check("socket", libc().socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    fds.push(here);
    assert.equal(namespaceOf(here), before);
  } finally {
    for (const fd of fds) libc().close(fd);
    await server.stop();
    await lab.teardown();
  }
});

Deno.test("socketIn refuses a namespace that does not exist, and the thread stays home", () => {
  const before = ownNamespace();
  assert.throws(() => socketIn("cd-no-such-namespace", AF_INET, SOCK_STREAM), /ENOENT/);
  assert.throws(() => socketIn("../etc", AF_INET, SOCK_STREAM), /Invalid network namespace name/);
  assert.equal(ownNamespace(), before);
});
