/** The benchmark worker's workflows: the service's own, plus the hand-written yardstick. */
export * from '../src/workflows';
export * from './hand-written-workflows';
