/** Delays the strategies share. */

/**
 * After new SYNs stop reaching a socket (rule installed or flipped), how long the generation
 * that accepts on it keeps accepting: handshakes already under way complete and land in that
 * socket's queue; a socket closed with connections in its queue resets them.
 */
export const HANDSHAKE_SETTLE_MS = 200
