/**
 * A loop over work kept in PostgreSQL (the event router, the webhook
 * dispatcher): it runs its pass when nudged from this process, on NOTIFY on
 * its channel, and on a slow poll as a safety net. Passes never overlap: a
 * nudge while one runs makes it go round once more.
 */
import type { Db } from './db';

export interface WakeLoopOptions {
  db: Db;
  /** The NOTIFY channel that says there is new work. */
  channel: string;
  /** The safety-net poll; default 1 s. */
  pollMs?: number;
  /** One pass over the work there is. */
  pass: () => Promise<unknown>;
  /** A pass that threw; the next nudge or poll tries again. Not called once stopped. */
  onError: (err: Error) => void;
}

export class WakeLoop {
  private running = false;
  private again = false;
  private stoppedFlag = true;
  private timer?: NodeJS.Timeout;
  private unlisten?: () => Promise<void>;
  private current?: Promise<void>;

  constructor(private readonly o: WakeLoopOptions) {}

  /** True before start and after stop: a pass in progress should wind down. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  async start(): Promise<void> {
    this.stoppedFlag = false;
    this.unlisten = await this.o.db.listen(this.o.channel, () => this.nudge());
    const poll = (): void => {
      if (this.stoppedFlag) return;
      this.nudge();
      this.timer = setTimeout(poll, this.o.pollMs ?? 1000);
      this.timer.unref();
    };
    poll();
  }

  /** Stops waking, then waits for the pass in progress to end. */
  async stop(): Promise<void> {
    this.stoppedFlag = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unlisten?.();
    this.unlisten = undefined;
    await this.current;
  }

  /** Run a pass soon; calls while a pass runs make it go round once more. */
  nudge(): void {
    if (this.stoppedFlag) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = (async () => {
      try {
        do {
          this.again = false;
          await this.o.pass();
        } while (this.again && !this.stoppedFlag);
      } catch (err) {
        if (!this.stoppedFlag) this.o.onError(err as Error);
      } finally {
        this.running = false;
      }
    })();
  }
}
