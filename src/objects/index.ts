/**
 * The object store: the identity platform's own objects (inquiries,
 * accounts, cases, reports, lists, devices), their life cycles, and the
 * event every change writes in its own transaction. Writes take the
 * caller's transaction (`Queryable`), so the API and the object actions
 * compose them with other writes (an action's idempotency record) atomically.
 */
export * from './accounts';
export * from './cases';
export * from './devices';
export * from './errors';
export * from './ids';
export * from './inputs';
export * from './inquiries';
export * from './lifecycle';
export * from './list-check';
export * from './list-values';
export * from './lists';
export { eventPrefix, lockObject, mustRead, readAnyObject, readObject, recordChange, type Change } from './object-rows';
export * from './person-fields';
export * from './queries';
export * from './records';
export * from './redaction';
export * from './reports';
export * from './tags';
export * from './transitions';
