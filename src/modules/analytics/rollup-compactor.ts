import type { DataSource } from 'typeorm';
import { SingleFlight } from '../../kernel/single-flight';
import type { Logger } from '../../kernel/logger';

/** How often, and how many keys per rollup at most per round. */
const INTERVAL_MS = 5000;
const KEYS_PER_ROUND = 10_000;

/**
 * Folds the delta rows that writes append to the analytics rollups (see migration AnalyticsRollups)
 * back into one row per key, so that reads stay as cheap as the number of keys. Every instance runs
 * one; an advisory lock in worker_compact_rollups lets one fold at a time. Readers are exact whether
 * or not a round has run: compaction only changes how many rows hold the same sums.
 */
export class RollupCompactor {
  private timer: NodeJS.Timeout | null = null;
  /** A call during a round shares it, with no round after: the timer's next round folds whatever came meanwhile. */
  private readonly rounds: SingleFlight;

  constructor(
    private readonly ds: DataSource,
    private readonly log: Logger,
  ) {
    this.rounds = new SingleFlight(() => this.compactOnce(), {
      rerun: false,
      onError: (err) => this.log.warn({ err }, 'analytics rollup compaction failed; the next round retries'),
    });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.compact(), INTERVAL_MS);
    this.timer.unref();
  }

  /** One round (or the one in progress): how many compacted rows it wrote. */
  compact(): Promise<number> {
    return this.rounds.run();
  }

  private async compactOnce(): Promise<number> {
    const [row] = await this.ds.query<{ folded: number }[]>(`SELECT worker_compact_rollups($1) + worker_compact_funnel($1) AS folded`, [KEYS_PER_ROUND]);
    return row.folded;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.rounds.current;
  }
}
