/** Trims text input: undefined stays (no change), null or blank becomes null (clear). */
export const trimOrNull = (s: string | null | undefined): string | null | undefined => (s === undefined ? undefined : s === null ? null : s.trim() || null);

/** Lower-cases and trims an email; same undefined/null rules as trimOrNull. */
export const normEmail = (s: string | null | undefined) => trimOrNull(s)?.toLowerCase();
