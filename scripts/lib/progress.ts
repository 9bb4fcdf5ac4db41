import { SingleBar } from 'cli-progress';

/** How often a progress line is printed when stderr is not a terminal (a log file, CI): TRELLIS_PROGRESS_INTERVAL_MS. */
const LINE_INTERVAL_MS = Number(process.env.TRELLIS_PROGRESS_INTERVAL_MS) || 5000;

/**
 * Progress of a long CLI run on stderr (stdout may carry the data): a bar redrawn in place on a
 * terminal, a line every few seconds otherwise (cli-progress' notTTY schedule), so that a run in CI
 * or under nohup shows it is alive. `total` may be unknown (null): then counts only. The last state
 * is always printed once more by `stop()`.
 */
export class Progress {
  private readonly bar: SingleBar;
  private started = false;

  constructor(
    label: string,
    private total: number | null,
    unit = 'rows',
  ) {
    const tty = !!process.stderr.isTTY;
    this.bar = new SingleBar({
      stream: process.stderr,
      format:
        total == null ? `${label} {value} ${unit} | {duration_formatted}` : `${label} [{bar}] {percentage}% | {value} / {total} ${unit} | {duration_formatted}`,
      noTTYOutput: !tty,
      notTTYSchedule: LINE_INTERVAL_MS,
      fps: 10,
      hideCursor: tty,
      barsize: 30,
      clearOnComplete: false,
    });
  }

  update(done: number, total?: number | null): void {
    if (total !== undefined) this.total = total;
    if (!this.started) {
      this.started = true;
      this.bar.start(this.total ?? 0, done);
      return;
    }
    if (total !== undefined && total !== null) this.bar.setTotal(total);
    this.bar.update(done);
  }

  stop(): void {
    if (!this.started) return;
    // cli-progress renders the final state on stop, even between two scheduled lines.
    this.bar.stop();
    this.started = false;
  }
}
