/**
 * The stream queue the `rabbitmq` target's large request reads: what `prepare` puts in it,
 * and the subscription that reads it.
 *
 * @module
 */

/** How many messages the stream holds. */
export const MESSAGES = 64;
/** Bytes of each message's body. */
export const MESSAGE_BYTES = 1024 * 1024;
/** The queue, as a STOMP destination: declared by the first SEND, durable. */
export const STREAM_DESTINATION = "/queue/clientdown.big";
