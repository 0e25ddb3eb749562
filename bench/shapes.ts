/**
 * The workflows of the interpreter-overhead section: each shape as a
 * definition the interpreter runs, and the hand-written Temporal workflow
 * (bench/hand-written-workflows.ts) that does the same with the same
 * activities. `steps` counts the definition's steps a run goes through
 * (worker CPU is reported per step).
 */
const noop = (id: string, n: unknown, next?: string) => ({ id, type: 'action', action: 'bench_noop', params: { n }, ...(next ? { next } : {}) });

export interface Shape {
  name: string;
  /** The definition (published as bench_<key>). */
  definition: Record<string, unknown>;
  handWritten: string;
  steps: number;
  /** Each run's trigger payload (and the hand-written workflow's argument). */
  input: (i: number) => Record<string, unknown>;
  /** Set up what a run needs first (objects to update); returns the input to use. */
  prepare?: (i: number, post: (path: string, body?: unknown) => Promise<Record<string, unknown>>) => Promise<Record<string, unknown>>;
  /** Sent to the run right after it starts (the event a wait waits for). */
  event?: (input: Record<string, unknown>, i: number) => { id: string; type: string; objectId: string };
}

export const SHAPES: Record<string, Shape> = {
  sequential: {
    name: '10 activities in a row',
    definition: { trigger: { type: 'api' }, steps: Array.from({ length: 10 }, (_, i) => noop(`step_${i + 1}`, i, i < 9 ? `step_${i + 2}` : undefined)) },
    handWritten: 'handTenSteps',
    steps: 10,
    input: () => ({}),
  },
  condition: {
    name: 'activity, condition, activity x2',
    definition: {
      trigger: { type: 'api' },
      steps: [
        noop('first', { $cel: 'trigger.n' }, 'route'),
        { id: 'route', type: 'condition', routes: [{ when: 'steps.first.output.n > 5', next: 'high' }], default: 'low' },
        noop('high', 1, 'last'),
        noop('low', 0, 'last'),
        noop('last', 2),
      ],
    },
    handWritten: 'handCondition',
    steps: 4,
    input: (i) => ({ n: i % 10 }),
  },
  parallel: {
    name: 'parallel of 4 branches, activity',
    definition: {
      trigger: { type: 'api' },
      steps: [
        {
          id: 'fan_out',
          type: 'parallel',
          branches: [0, 1, 2, 3].map((b) => ({ id: `b${b}`, steps: [noop(`b${b}_work`, b)] })),
          next: 'after',
        },
        noop('after', 4),
      ],
    },
    handWritten: 'handParallel',
    steps: 6,
    input: () => ({}),
  },
  wait: {
    name: 'activity, wait for event, activity',
    definition: {
      trigger: { type: 'api' },
      steps: [
        noop('before', 0, 'await_go'),
        { id: 'await_go', type: 'wait_for_event', events: ['bench.go'], object: 'trigger.key', timeout: '1h', next: 'after' },
        noop('after', 1),
      ],
    },
    handWritten: 'handWait',
    steps: 3,
    input: (i) => ({ key: `obj_${i}_${Math.random().toString(36).slice(2)}` }),
    event: (input, i) => ({ id: `evt_go_${i}_${input.key}`, type: 'bench.go', objectId: String(input.key) }),
  },
  objects: {
    name: '10 object updates (tag_object)',
    definition: {
      trigger: { type: 'api' },
      steps: Array.from({ length: 10 }, (_, i) => ({
        id: `tag_${i + 1}`,
        type: 'action',
        action: 'tag_object',
        params: { objectId: { $cel: 'trigger.inquiryId' }, tag: `t${i + 1}` },
        ...(i < 9 ? { next: `tag_${i + 2}` } : {}),
      })),
    },
    handWritten: 'handObjectUpdates',
    steps: 10,
    input: () => ({}),
    async prepare(_i, post) {
      const inquiry = await post('/v1/inquiries', { template: 'itmpl_bench' });
      return { inquiryId: String(inquiry.id) };
    },
  },
};
