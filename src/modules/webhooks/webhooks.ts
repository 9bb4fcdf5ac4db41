import type { DataSource } from 'typeorm';
import type { Logger } from '../../kernel/logger';
import type { RecordFilterService } from '../common/record-filter';
import type { EventBus } from '../../events/event-bus';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSender } from './webhook-sender';
import { WebhookWorker, type WebhookWorkerOptions } from './webhook-worker';
import type { WebhookEndpointService } from './webhook-endpoint.service';

interface WebhookRuntimeOptions extends Partial<WebhookWorkerOptions> {
  allowPrivateNetworks: boolean;
  timeoutMs: number;
  /** False: this instance neither dispatches nor sends (tests drive their own worker). */
  enabled: boolean;
}

/**
 * The moving parts of webhooks in one instance: the dispatcher wakes on every batch of new events
 * (and every second, for anything a lost notification hid), the worker when deliveries are created
 * and every second for retries that come due.
 */
export class WebhookRuntime {
  readonly sender: WebhookSender;
  readonly dispatcher: WebhookDispatcher;
  readonly worker: WebhookWorker;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    ds: DataSource,
    private readonly bus: EventBus,
    filters: RecordFilterService,
    endpoints: WebhookEndpointService,
    log: Logger,
    private readonly opts: WebhookRuntimeOptions,
  ) {
    this.sender = new WebhookSender({ allowPrivateNetworks: opts.allowPrivateNetworks, timeoutMs: opts.timeoutMs });
    this.worker = new WebhookWorker(ds, this.sender, endpoints, log, {
      concurrency: opts.concurrency ?? 64,
      leaseSeconds: opts.leaseSeconds ?? Math.ceil(opts.timeoutMs / 1000) * 3,
      pollMs: opts.pollMs ?? 1000,
      now: opts.now ?? (() => new Date()),
      jitter: opts.jitter ?? 0.1,
      onAttempt: opts.onAttempt,
    });
    this.dispatcher = new WebhookDispatcher(ds, filters, endpoints, log, () => void this.worker.tick());
  }

  start(): void {
    if (!this.opts.enabled || this.unsubscribe) return;
    this.unsubscribe = this.bus.subscribeAll(() => void this.dispatcher.run());
    this.timer = setInterval(() => void this.dispatcher.run(), 1000);
    this.timer.unref();
    this.worker.start();
    void this.dispatcher.run();
  }

  /** Wakes the worker (after a redelivery or a replay is committed). */
  wake(): void {
    if (this.opts.enabled) void this.worker.tick();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.timer);
    await this.dispatcher.idle();
    await this.worker.stop();
    await this.sender.close();
  }
}
