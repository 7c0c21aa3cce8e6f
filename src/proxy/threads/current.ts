/** This thread's position among the proxy threads (0 to nbthread-1), as HAProxy's `thread` sample fetch returns it. */
let position = 0

export function threadPosition (): number {
  return position
}

export function setThreadPosition (n: number): void {
  position = n
}
