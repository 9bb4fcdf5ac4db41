/** Wrong arguments or configuration: one line on stderr and exit code 2. */
export class UsageError extends Error {}
