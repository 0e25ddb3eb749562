/**
 * The events a run (or a for_each batch) holds for its waits: deduplicated
 * by event id, the oldest dropped beyond a limit, and carried across
 * continue-as-new (the ids seen, too, so a redelivery stays ignored).
 */
import type { RunEvent } from '../interpreter';

/** Events kept for waits that have not started yet; the oldest go first. */
export const INBOX_LIMIT = 1000;
/** Event ids remembered across continue-as-new: enough for any redelivery window, bounded in size. */
const CARRIED_SEEN_IDS = 5000;

export class EventInbox {
  readonly events: RunEvent[];
  private readonly seen: Set<string>;

  constructor(events: RunEvent[] = [], seenIds: string[] = []) {
    this.events = [...events];
    this.seen = new Set(seenIds);
  }

  isNew(event: RunEvent): boolean {
    return !this.seen.has(event.id);
  }

  accept(event: RunEvent): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    this.events.push(event);
    if (this.events.length > INBOX_LIMIT) this.events.shift();
  }

  /** The first held event that `matches`, taken out; match errors propagate. */
  take(matches: (event: RunEvent) => boolean): RunEvent | undefined {
    const index = this.events.findIndex(matches);
    return index < 0 ? undefined : this.events.splice(index, 1)[0];
  }

  seenIds(): string[] {
    const all = [...this.seen];
    return all.slice(Math.max(0, all.length - CARRIED_SEEN_IDS));
  }
}
