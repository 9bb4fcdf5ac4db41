/**
 * Whether this process is stopping. Connections that close while it is are expected, not warnings:
 * Ctrl-C in a terminal signals the whole process group, so an embedded PostgreSQL stops at the same
 * moment as the server and closes every connection under it.
 */
let stopping = false;

export function markStopping(): void {
  stopping = true;
}

export function isStopping(): boolean {
  return stopping;
}
