/**
 * Whether this process is the host's root, and whether it may make labs: root may, and so may
 * an ordinary user inside a user namespace of its own (see lib/lab/user_namespace.ts), where
 * it has every capability over the namespaces it makes.
 *
 * Permissions: --allow-read=/proc/self --allow-sys=uid.
 *
 * @module
 */

// The host's own user namespace maps every uid to itself.
const IDENTITY_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/** Whether this process runs in a user namespace other than the host's. */
export function inUserNamespace(): boolean {
  try {
    return !IDENTITY_MAP.test(Deno.readTextFileSync("/proc/self/uid_map"));
  } catch {
    return false; // no user namespaces in this kernel: the host's
  }
}

/** Whether this process is the host's root (uid 0 of the host's user namespace). */
export function isRoot(): boolean {
  return Deno.uid() === 0 && !inUserNamespace();
}

// Bits of the capability set (linux/capability.h).
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Whether this process has what a lab needs: CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, mounts). */
export function canMakeLabs(): boolean {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? "0"}`);
    return [CAP_NET_ADMIN, CAP_SYS_ADMIN].every((bit) => (effective >> bit & 1n) === 1n);
  } catch {
    return false;
  }
}
