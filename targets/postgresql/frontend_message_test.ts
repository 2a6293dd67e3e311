import assert from "node:assert/strict";
import {
  commandComplete,
  queryMessage,
  READY_FOR_QUERY_IDLE,
  startupMessage,
} from "./frontend_message.ts";

const bytes = (s: string) => [...new TextEncoder().encode(s)];

Deno.test("startupMessage encodes length, protocol 3.0 and the parameters, byte for byte", () => {
  const message = startupMessage({ user: "pg" });
  assert.deepEqual(bytes(message), [
    0,
    0,
    0,
    17, // length, itself included
    0,
    3,
    0,
    0, // protocol 3.0
    ...bytes("user\0pg\0"),
    0,
  ]);
  assert.equal(message.length, 17);
});

Deno.test("queryMessage encodes type, length and the NUL-terminated text", () => {
  assert.deepEqual(bytes(queryMessage("SELECT 1")), [0x51, 0, 0, 0, 13, ...bytes("SELECT 1\0")]);
  assert.deepEqual(bytes(READY_FOR_QUERY_IDLE), [0x5a, 0, 0, 0, 5, 0x49]);
});

Deno.test("commandComplete encodes type, length and the NUL-terminated tag", () => {
  assert.deepEqual(bytes(commandComplete("SELECT 1")), [0x43, 0, 0, 0, 13, ...bytes("SELECT 1\0")]);
  assert.equal(commandComplete("SELECT 100").length, 16);
});

Deno.test("messages whose bytes UTF-8 would change are refused", () => {
  // A length of 128 would be sent as two bytes by UTF-8.
  assert.throws(() => queryMessage("x".repeat(123)), RangeError);
  assert.equal(queryMessage("x".repeat(122)).length, 128);
  assert.throws(() => startupMessage({ user: "é" }), /byte "233" at "13"/);
});
