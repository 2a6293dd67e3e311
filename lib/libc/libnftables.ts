/**
 * libnftables, the library behind the `nft` command, called in-process: a ruleset script is
 * parsed and committed by the calling thread, in the network namespace that thread is in (see
 * `inNetns`), with no process started. Debian's nftables package depends on it
 * (libnftables1).
 *
 * @module
 */

import { cString } from "./libc.ts";

const symbols = {
  nft_ctx_new: { parameters: ["u32"], result: "pointer" },
  nft_ctx_free: { parameters: ["pointer"], result: "void" },
  nft_ctx_buffer_output: { parameters: ["pointer"], result: "i32" },
  nft_ctx_buffer_error: { parameters: ["pointer"], result: "i32" },
  nft_ctx_get_error_buffer: { parameters: ["pointer"], result: "pointer" },
  nft_run_cmd_from_buffer: { parameters: ["pointer", "buffer"], result: "i32" },
} as const;

let library: Deno.DynamicLibrary<typeof symbols> | undefined;

function nftables(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  library ??= Deno.dlopen("libnftables.so.1", symbols);
  return library.symbols;
}

/** nft_ctx_new's flags: the defaults (include paths and all), as the `nft` command has them. */
const NFT_CTX_DEFAULT = 0;

/**
 * Runs an nft script (what `nft -f -` reads) as one transaction in the calling thread's
 * network namespace; throws with what nft said when it fails (nothing of it is applied).
 */
export function runNftScript(script: string): void {
  const lib = nftables();
  const ctx = lib.nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx === null) throw new Error("libnftables could not make a context");
  try {
    // Its output and errors are kept for the caller instead of being printed.
    lib.nft_ctx_buffer_output(ctx);
    lib.nft_ctx_buffer_error(ctx);
    if (lib.nft_run_cmd_from_buffer(ctx, cString(script)) !== 0) {
      const said = lib.nft_ctx_get_error_buffer(ctx);
      const text = said === null ? "" : new Deno.UnsafePointerView(said).getCString().trim();
      throw new Error(`nft: ${text || "the ruleset was refused"}`);
    }
  } finally {
    lib.nft_ctx_free(ctx);
  }
}
