// The figures every benchmark reports, computed one way.

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The p-th percentile of values sorted ascending (0 for none). */
export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A figure over several runs: its median and its spread (the lowest and the highest run). */
export const acrossRuns = (xs: number[]) => ({ median: median(xs), spread: [Math.min(...xs), Math.max(...xs)] });
