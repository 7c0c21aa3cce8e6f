/**
 * Which thread listens on which socket: a listener's SO_REUSEPORT group is dealt round the threads (socket i to thread
 * i mod N), so a group larger than the thread count (a reload to fewer threads) is served whole, and a group of one
 * (`fd@N`, a stats socket) by thread 1 only.
 */
import { groupOf } from '../../ipc/messages.ts'

/** The member keys each of `threads` threads listens on (index 0: the main thread). */
export function shareSockets (members: Iterable<string>, threads: number): string[][] {
  const shares: string[][] = Array.from({ length: threads }, () => [])
  for (const m of members) shares[groupOf(m).index % threads]?.push(m)
  return shares
}
