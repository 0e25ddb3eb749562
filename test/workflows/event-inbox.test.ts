/**
 * The run's view of the event log, as tables: which held events a wait may
 * take (after the run's cursor, not consumed, oldest first), how consuming
 * moves the cursor, and when a wait must subscribe again.
 */
import type { RunEvent } from '../../src/interpreter';
import { EventInbox } from '../../src/workflows/event-inbox';

const ev = (id: string, position: number | undefined, type = 'case.resolved', objectId = 'case_1'): RunEvent => ({ id, type, objectId, ...(position === undefined ? {} : { position }) });
const onCase = { objectId: 'case_1', types: ['case.resolved'] };

describe('EventInbox', () => {
  it.each([
    ['an event recorded before the run began', [ev('a', 5)], 10, []],
    ['the event at the run start position (the triggering event)', [ev('a', 10)], 10, []],
    ['events after the start, oldest first whatever the arrival order', [ev('c', 13), ev('b', 12)], 10, ['b', 'c']],
    ['another object', [ev('a', 11, 'case.resolved', 'case_2')], 10, []],
    ['another type', [ev('a', 11, 'case.created')], 10, []],
    ['a redelivery, held once', [ev('a', 11), ev('a', 11)], 10, ['a']],
    ['an event without a position (a hand-sent signal) comes after positioned ones', [ev('x', undefined), ev('a', 11)], 10, ['a', 'x']],
  ])('%s', (_what, arrivals, start, expected) => {
    const inbox = EventInbox.startingAt(start);
    for (const e of arrivals) inbox.accept(e);
    expect(inbox.candidates(onCase, inbox.after('case_1')).map((e) => e.id)).toEqual(expected);
  });

  it('consumes an event once: a second wait on the object needs a newer one, and a redelivery is dropped', () => {
    const inbox = EventInbox.startingAt(10);
    inbox.accept(ev('a', 11));
    inbox.accept(ev('b', 12));
    inbox.consume(ev('b', 12), onCase);
    // The cursor moved to b: a, older, no longer counts for this object.
    expect(inbox.after('case_1')).toBe(12);
    expect(inbox.candidates(onCase, inbox.after('case_1'))).toEqual([]);
    inbox.accept(ev('b', 12));
    expect(inbox.isNew(ev('b', 12))).toBe(false);
    inbox.accept(ev('c', 13));
    expect(inbox.candidates(onCase, inbox.after('case_1')).map((e) => e.id)).toEqual(['c']);
    // A wait on another object keeps the run's start.
    expect(inbox.after('case_2')).toBe(10);
  });

  it('carries cursors, held events and consumed ids through a snapshot (continue-as-new)', () => {
    const inbox = EventInbox.startingAt(10);
    inbox.accept(ev('a', 11));
    inbox.accept(ev('b', 12));
    inbox.consume(ev('a', 11), onCase);
    const next = new EventInbox(JSON.parse(JSON.stringify(inbox.snapshot())));
    expect(next.after('case_1')).toBe(11);
    expect(next.isNew(ev('a', 11))).toBe(false);
    expect(next.candidates(onCase, next.after('case_1')).map((e) => e.id)).toEqual(['b']);
    next.accept(ev('old', 9));
    expect(next.isNew(ev('old', 9))).toBe(true);
    expect(next.candidates(onCase, 0).map((e) => e.id)).toEqual(['b']);
  });

  it('tells a wait to subscribe again when another wait consumed an event it could have taken', () => {
    const inbox = EventInbox.startingAt(10);
    const mark = inbox.mark();
    expect(inbox.consumedSince(mark, onCase, 10)).toBe(false);
    inbox.consume(ev('x', 11, 'case.created'), { objectId: 'case_1', types: ['case.created'] });
    expect(inbox.consumedSince(mark, onCase, 10)).toBe(false);
    inbox.consume(ev('y', 12, 'case.resolved', 'case_2'), { objectId: 'case_2', types: ['case.resolved'] });
    expect(inbox.consumedSince(mark, onCase, 10)).toBe(false);
    inbox.consume(ev('z', 13), onCase);
    expect(inbox.consumedSince(mark, onCase, 10)).toBe(true);
    // Not when the consumed event was at or before the wait's cursor.
    expect(inbox.consumedSince(mark, onCase, 13)).toBe(false);
  });
});
