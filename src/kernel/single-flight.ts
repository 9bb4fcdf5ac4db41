interface SingleFlightOptions {
  /**
   * What run() does while a run is in flight. true (the default): the caller shares that run, and
   * one more round follows the current one, so that whatever the caller wanted seen (new events,
   * new deliveries) is seen; any number of calls during a round ask for that one round only.
   * false: the caller only shares the run in flight.
   */
  rerun?: boolean;
  /**
   * Told of a round's failure; the run then ends (no further round, even one asked for) and
   * resolves with the total of the rounds done before it. Without it, the run rejects.
   */
  onError?: (err: unknown) => void;
}

/**
 * Runs a piece of work one at a time: `run()` starts a run if none is in flight, and otherwise
 * returns the run in flight. A run is one or more rounds of the work, each resolving with a count
 * (events read, deliveries made, rows folded); the run resolves with their sum.
 */
export class SingleFlight {
  private running?: Promise<number>;
  private requested = false;

  constructor(
    private readonly round: () => Promise<number>,
    private readonly opts: SingleFlightOptions = {},
  ) {}

  /** The run in flight (its promise is the one run() returns), or undefined. */
  get current(): Promise<number> | undefined {
    return this.running;
  }

  run(): Promise<number> {
    if (this.running) {
      if (this.opts.rerun !== false) this.requested = true;
      return this.running;
    }
    this.running = this.rounds();
    return this.running;
  }

  /**
   * Whether run() was called since the current round began, and forgets that it was: a round that
   * can serve the request itself (the webhook worker claims once more before it waits) takes it,
   * and no extra round follows for it.
   */
  takeRequest(): boolean {
    const requested = this.requested;
    this.requested = false;
    return requested;
  }

  private async rounds(): Promise<number> {
    let total = 0;
    try {
      do {
        this.requested = false;
        total += await this.startRound();
      } while (this.requested);
    } catch (err) {
      if (!this.opts.onError) throw err;
      this.opts.onError(err);
    } finally {
      this.running = undefined;
    }
    return total;
  }

  /**
   * The round, as a promise even if it throws before returning one: the run must end after run()
   * has recorded it as in flight, or `running` would keep a finished run for good.
   */
  private startRound(): Promise<number> {
    try {
      return this.round();
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
