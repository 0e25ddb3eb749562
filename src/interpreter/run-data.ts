/**
 * The run's data that expressions and templates read:
 *   trigger  the trigger's payload (API body, or { event, object })
 *   steps    `steps.<id>` = { status, output, error } for each step that ran
 *   vars     variables set by `set_variables` steps, merged in order
 *   run      { id, workflowId, version, triggerType, startedAt }
 * plus, inside a for_each item, the item under its name (`item`,
 * `item_index`). Kept as JSON and, in step, as CEL values, so an evaluation
 * does not convert the whole run every time.
 */
import { toCel } from './cel';
import type { ValueScope } from './values';

export interface RunMeta {
  id: string;
  workflowId: string;
  version: number;
  triggerType: string;
  startedAt: string;
}

export interface StepData {
  status: 'completed' | 'failed';
  output?: unknown;
  error?: { type: string; message: string };
}

/** The run's data as plain JSON: what continue-as-new and a for_each batch carry. */
export interface RunDataSnapshot {
  trigger: unknown;
  steps: Record<string, StepData>;
  vars: Record<string, unknown>;
  run: RunMeta;
  /** A loop item's names (`item`, `item_index`), when the data is an item's. */
  loop?: Record<string, unknown>;
}

export class RunData {
  private readonly json: Record<string, unknown>;
  private readonly cel: Record<string, unknown>;
  private readonly loop: Record<string, unknown>;

  constructor(trigger: unknown, meta: RunMeta) {
    this.json = { trigger, steps: {}, vars: {}, run: meta };
    this.cel = { trigger: toCel(trigger), steps: {}, vars: {}, run: toCel(meta) };
    this.loop = {};
  }

  static restore(snapshot: RunDataSnapshot): RunData {
    const data = new RunData(snapshot.trigger, snapshot.run);
    for (const [id, step] of Object.entries(snapshot.steps)) data.setStep(id, step);
    data.mergeVars(snapshot.vars);
    for (const [name, value] of Object.entries(snapshot.loop ?? {})) data.bind(name, value);
    return data;
  }

  /**
   * The data one item of a for_each starts from: what the run knew when the
   * loop started, plus the item. What the item's steps do stays in the item.
   */
  fork(loop: Record<string, unknown>): RunData {
    const child = new RunData(undefined, this.json.run as RunMeta);
    child.json.trigger = this.json.trigger;
    child.cel.trigger = this.cel.trigger;
    Object.assign(child.json.steps as object, this.json.steps);
    Object.assign(child.cel.steps as object, this.cel.steps);
    Object.assign(child.json.vars as object, this.json.vars);
    Object.assign(child.cel.vars as object, this.cel.vars);
    for (const [name, value] of Object.entries(this.loop)) child.bind(name, value);
    for (const [name, value] of Object.entries(loop)) child.bind(name, value);
    return child;
  }

  private bind(name: string, value: unknown): void {
    this.loop[name] = value;
    this.json[name] = value;
    this.cel[name] = toCel(value);
  }

  setStep(id: string, data: StepData): void {
    (this.json.steps as Record<string, unknown>)[id] = data;
    (this.cel.steps as Record<string, unknown>)[id] = toCel(data);
  }

  mergeVars(vars: Record<string, unknown>): void {
    Object.assign(this.json.vars as Record<string, unknown>, vars);
    Object.assign(this.cel.vars as Record<string, unknown>, toCel(vars) as Record<string, unknown>);
  }

  /** The scope for resolving values, optionally with extra names (e.g. `event`). */
  scope(extra?: Record<string, unknown>): ValueScope {
    if (!extra) return { json: this.json, cel: this.cel };
    const cel: Record<string, unknown> = { ...this.cel };
    const json: Record<string, unknown> = { ...this.json };
    for (const key of Object.keys(extra)) {
      cel[key] = toCel(extra[key]);
      json[key] = extra[key];
    }
    return { json, cel };
  }

  snapshot(): RunDataSnapshot {
    const { trigger, steps, vars, run } = this.json as unknown as RunDataSnapshot;
    return Object.keys(this.loop).length > 0 ? { trigger, steps, vars, run, loop: this.loop } : { trigger, steps, vars, run };
  }
}
