/**
 * What a run (or a for_each batch) knows of the event log, for its waits:
 *
 * - its **cursors**: the run's start position (events at or below it were
 *   recorded before the run began and never count), and, per object, the
 *   position of the last event a wait consumed there;
 * - the events it **holds**: delivered by the router or read when a wait
 *   subscribed, not consumed yet (a wait that starts later takes them);
 * - the ids it has **consumed**: a run consumes an event once, so a second
 *   wait on the same object (a loop, a reminder) needs a new event, and a
 *   redelivered event is dropped.
 *
 * All of it travels through continue-as-new (`snapshot()`). Positions come
 * from the event store (commit order), never from clocks.
 */
import type { RunEvent } from '../interpreter/runtime';

/** Events held for waits that have not started yet; the oldest go first beyond it. */
export const INBOX_LIMIT = 1000;
/** Consumed ids remembered across continue-as-new: enough for any redelivery window, bounded in size. */
const CARRIED_CONSUMED_IDS = 5000;
/** Consumptions remembered for waits running side by side (see `consumedSince`). */
const CONSUMED_LOG_LIMIT = 200;

/** The cursor key of a wait on any object. */
const ANY_OBJECT = '*';

export interface InboxSnapshot {
  /** Events at or below this position were recorded before the run began. */
  start: number;
  /** Per object id ('*' for waits on any object): the position of the last event consumed there. */
  cursors: Record<string, number>;
  held: RunEvent[];
  consumed: string[];
}

/** One consumption, for waits on the same object running beside the one that consumed. */
interface Consumption {
  id: string;
  type: string;
  objectId?: string;
  position?: number;
}

/** A wait's view: the events it takes (any of `types`, on `objectId` or any object). */
export interface WaitSpec {
  objectId: string | null;
  types: readonly string[];
}

const positionOf = (event: RunEvent): number => event.position ?? Number.MAX_SAFE_INTEGER;

export class EventInbox {
  private readonly start: number;
  private readonly cursors: Map<string, number>;
  private readonly held: RunEvent[];
  private readonly consumed: Set<string>;
  private readonly consumedLog: Consumption[] = [];
  private consumedCount = 0;

  constructor(snapshot: InboxSnapshot) {
    this.start = snapshot.start;
    this.cursors = new Map(Object.entries(snapshot.cursors));
    this.held = [...snapshot.held];
    this.consumed = new Set(snapshot.consumed);
  }

  /** A run that begins at `start` (the log's delivered horizon when it was started, or its triggering event's position). */
  static startingAt(start: number): EventInbox {
    return new EventInbox({ start, cursors: {}, held: [], consumed: [] });
  }

  /** Neither consumed nor held already. */
  isNew(event: RunEvent): boolean {
    return !this.consumed.has(event.id) && !this.held.some((e) => e.id === event.id);
  }

  /** Hold a delivered or read event; redeliveries, and events from before the run began, are dropped. */
  accept(event: RunEvent): void {
    if (!this.isNew(event)) return;
    if (event.position !== undefined && event.position <= this.start) return;
    this.held.push(event);
    if (this.held.length > INBOX_LIMIT) this.held.shift();
  }

  /** Only events after this position count for a wait on this object (its run start or its last consumption). */
  after(objectId: string | null): number {
    return Math.max(this.start, this.cursors.get(objectId ?? ANY_OBJECT) ?? 0);
  }

  /** The held events a wait could take, oldest first (by position; events without one last, in arrival order). */
  candidates(wait: WaitSpec, after: number): RunEvent[] {
    return this.held
      .filter((e) => wait.types.includes(e.type) && (wait.objectId === null || e.objectId === wait.objectId) && positionOf(e) > after)
      .sort((a, b) => positionOf(a) - positionOf(b));
  }

  /** The wait took this event: no other wait of the run will, and later waits on the object need a newer one. */
  consume(event: RunEvent, wait: WaitSpec): void {
    const index = this.held.findIndex((e) => e.id === event.id);
    if (index >= 0) this.held.splice(index, 1);
    this.consumed.add(event.id);
    const position = event.position;
    if (position !== undefined) {
      for (const key of new Set([wait.objectId ?? ANY_OBJECT, ...(event.objectId ? [event.objectId] : [])])) {
        this.cursors.set(key, Math.max(this.cursors.get(key) ?? 0, position));
      }
    }
    this.consumedLog.push({ id: event.id, type: event.type, objectId: event.objectId, position });
    if (this.consumedLog.length > CONSUMED_LOG_LIMIT) this.consumedLog.shift();
    this.consumedCount++;
  }

  /** A mark for `consumedSince`: how many consumptions so far. */
  mark(): number {
    return this.consumedCount;
  }

  /**
   * Whether another wait consumed an event, since `mark`, that this wait
   * could have taken. The router removed this wait's subscription when it
   * delivered that event, so the wait must subscribe again.
   */
  consumedSince(mark: number, wait: WaitSpec, after: number, except?: string): boolean {
    const fresh = this.consumedCount - mark;
    if (fresh <= 0) return false;
    // More consumptions than remembered: subscribing again is always safe.
    if (fresh > this.consumedLog.length) return true;
    return this.consumedLog
      .slice(-fresh)
      .some((c) => c.id !== except && wait.types.includes(c.type) && (wait.objectId === null || c.objectId === wait.objectId) && (c.position ?? Number.MAX_SAFE_INTEGER) > after);
  }

  snapshot(): InboxSnapshot {
    const consumed = [...this.consumed];
    return {
      start: this.start,
      cursors: Object.fromEntries(this.cursors),
      held: [...this.held],
      consumed: consumed.slice(Math.max(0, consumed.length - CARRIED_CONSUMED_IDS)),
    };
  }
}
