/**
 * One Temporal Schedule per workflow whose live version has a `schedule` or
 * `recurring` trigger, kept in step with it: `sync` after every publish (and
 * archive, and at start-up) creates, updates or deletes the schedule so that
 * it matches the live version; pause and resume go to Temporal and are kept
 * in the database so they survive new versions. `describe` shows the spec,
 * the state and the next run times as Temporal computes them.
 *
 * A schedule's action is a helper workflow (src/schedules/workflows.ts), not
 * a run: `scheduledStart` starts a run of the version live when it fires, so
 * a firing racing a publish runs the new version, and it lasts as long as its
 * run, so the overlap policy applies to runs; `recurringDispatch` fans out
 * over the matching objects in batches.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions, type ScheduleOverlapPolicy } from '@temporalio/client';
import type { Trigger } from '../interpreter';
import { parseDuration } from '../interpreter/duration';
import type { WorkflowStore } from '../store/workflow-store';
import { SearchAttributes } from '../workflows/run-contract';
import { RECURRING_DISPATCH_WORKFLOW_TYPE, SCHEDULED_START_WORKFLOW_TYPE, type RecurringDispatchInput, type ScheduledStartInput } from './contract';
import type { ScheduleStore } from './schedule-store';
import { DEFAULT_BATCH_SIZE, DEFAULT_CATCHUP_WINDOW } from './trigger-checks';

type ScheduledTrigger = Extract<Trigger, { type: 'schedule' | 'recurring' }>;

export interface ScheduleServiceOptions {
  client: Client;
  workflows: WorkflowStore;
  store: ScheduleStore;
  /** Where the helper workflows (and so the runs) go. */
  taskQueue: string;
  namespace: string;
  /**
   * Starts every schedule id and helper workflow id: one deployment's
   * schedules in a shared namespace (each test file has its own).
   */
  idPrefix?: string;
  temporalUiUrl?: string;
  log?: (line: string) => void;
}

export type SyncStatus = 'created' | 'updated' | 'deleted' | 'none';

export interface ScheduleView {
  workflowId: string;
  scheduleId: string;
  kind: 'schedule' | 'recurring';
  version: number;
  spec: { cron?: string; interval?: string; timezone?: string };
  policies: { overlap: string; catchupWindow: string };
  recurring?: { objectType: string; batchSize: number; filter: unknown };
  state: { paused: boolean; note: string | null };
  nextRunTimes: string[];
  recentRuns: { scheduledAt: string; takenAt: string; workflowId: string }[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  running: number;
  temporalUrl?: string;
}

export class NoScheduleError extends Error {}

const isScheduled = (t: Trigger): t is ScheduledTrigger => t.type === 'schedule' || t.type === 'recurring';

export class ScheduleService {
  private readonly prefix: string;

  constructor(private readonly options: ScheduleServiceOptions) {
    this.prefix = options.idPrefix ?? 'idw';
  }

  scheduleId(workflowId: string): string {
    return `${this.prefix}-schedule-${workflowId}`;
  }

  private handle(workflowId: string) {
    return this.options.client.schedule.getHandle(this.scheduleId(workflowId));
  }

  /** The Temporal schedule a trigger of this workflow needs. */
  private scheduleOptions(workflowId: string, trigger: ScheduledTrigger, pause: { paused: boolean; note: string | null }): ScheduleOptions {
    const spec: ScheduleOptions['spec'] =
      trigger.cron !== undefined
        ? { cronExpressions: [trigger.cron], timezone: trigger.timezone ?? 'UTC' }
        : { intervals: [{ every: parseDuration(trigger.interval!)! }] };
    const common = {
      taskQueue: this.options.taskQueue,
      typedSearchAttributes: [{ key: SearchAttributes.workflowId, value: workflowId }],
    };
    const action: ScheduleOptions['action'] =
      trigger.type === 'schedule'
        ? {
            type: 'startWorkflow',
            workflowType: SCHEDULED_START_WORKFLOW_TYPE,
            workflowId: `${this.prefix}-scheduled-${workflowId}`,
            args: [
              {
                workflowId,
                trigger: { type: 'schedule', payload: trigger.input ?? {} },
                waitForRun: true,
                requireTrigger: 'schedule',
                scheduledBy: this.scheduleId(workflowId),
              } satisfies ScheduledStartInput,
            ],
            staticSummary: `schedule of ${workflowId}`,
            ...common,
          }
        : {
            type: 'startWorkflow',
            workflowType: RECURRING_DISPATCH_WORKFLOW_TYPE,
            workflowId: `${this.prefix}-recurring-${workflowId}`,
            args: [{ workflowId } satisfies RecurringDispatchInput],
            staticSummary: `recurring trigger of ${workflowId}`,
            ...common,
          };
    return {
      scheduleId: this.scheduleId(workflowId),
      spec,
      action,
      policies: {
        overlap: (trigger.overlap ?? 'skip').toUpperCase() as ScheduleOverlapPolicy,
        catchupWindow: parseDuration(trigger.catchupWindow ?? DEFAULT_CATCHUP_WINDOW)!,
      },
      state: { paused: pause.paused, note: pause.note ?? undefined },
    };
  }

  /**
   * Make the workflow's Temporal schedule match its live version: create or
   * update it when the live version has a schedule or recurring trigger,
   * delete it otherwise (no live version: archived).
   */
  async sync(workflowId: string): Promise<SyncStatus> {
    const live = await this.options.workflows.liveVersion(workflowId);
    if (!live || !isScheduled(live.definition.trigger)) return (await this.delete(workflowId)) ? 'deleted' : 'none';
    await this.options.store.clearArchived(workflowId);
    const options = this.scheduleOptions(workflowId, live.definition.trigger, await this.options.store.pauseState(workflowId));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handle(workflowId).update(() => ({ spec: options.spec, action: options.action, policies: options.policies, state: { paused: options.state?.paused, note: options.state?.note } }));
        return 'updated';
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
      try {
        await this.options.client.schedule.create(options);
        return 'created';
      } catch (err) {
        // Created by a concurrent sync in between: update that one.
        if (!(err instanceof ScheduleAlreadyRunning) || attempt > 0) throw err;
      }
    }
  }

  /** `sync` for callers whose own change is already committed: a failure is reported (and logged), not thrown. */
  async syncReporting(workflowId: string): Promise<{ status: SyncStatus } | { status: 'error'; message: string }> {
    try {
      return { status: await this.sync(workflowId) };
    } catch (err) {
      const message = (err as Error).message;
      this.options.log?.(`schedules: could not sync ${workflowId} (synced again at start-up): ${message}`);
      return { status: 'error', message };
    }
  }

  /** Delete the workflow's schedule; false when there was none. Firings in progress finish. */
  async delete(workflowId: string): Promise<boolean> {
    try {
      await this.handle(workflowId).delete();
      return true;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    }
  }

  /** Delete the schedules of every workflow in this database (tests, decommissioning). */
  async deleteAll(): Promise<number> {
    let deleted = 0;
    for (const w of await this.options.workflows.list()) if (await this.delete(w.id)) deleted++;
    return deleted;
  }

  /** Sync every workflow (at start-up: a publish whose sync failed, Temporal's state lost). */
  async syncAll(): Promise<{ synced: number; failed: string[] }> {
    const failed: string[] = [];
    let synced = 0;
    for (const w of await this.options.workflows.list()) {
      try {
        await this.sync(w.id);
        synced++;
      } catch (err) {
        failed.push(w.id);
        this.options.log?.(`schedules: could not sync ${w.id}: ${(err as Error).message}`);
      }
    }
    return { synced, failed };
  }

  private async scheduledLive(workflowId: string) {
    const live = await this.options.workflows.liveVersion(workflowId);
    if (!live) throw new NoScheduleError(`workflow ${workflowId} has no live version, so no schedule`);
    const trigger = live.definition.trigger;
    if (!isScheduled(trigger)) throw new NoScheduleError(`workflow ${workflowId} v${live.version} is started by its ${trigger.type} trigger; it has no schedule`);
    return { live, trigger };
  }

  async pause(workflowId: string, note?: string): Promise<ScheduleView> {
    await this.scheduledLive(workflowId);
    const text = note ?? 'paused through the API';
    await this.options.store.setPaused(workflowId, { paused: true, note: text });
    await this.withSchedule(workflowId, (h) => h.pause(text));
    return this.describe(workflowId);
  }

  async resume(workflowId: string, note?: string): Promise<ScheduleView> {
    await this.scheduledLive(workflowId);
    const text = note ?? 'resumed through the API';
    await this.options.store.setPaused(workflowId, { paused: false, note: text });
    await this.withSchedule(workflowId, (h) => h.unpause(text));
    return this.describe(workflowId);
  }

  /** Fire the schedule once now, outside its spec (the overlap policy still applies). */
  async triggerNow(workflowId: string): Promise<ScheduleView> {
    await this.scheduledLive(workflowId);
    await this.withSchedule(workflowId, (h) => h.trigger());
    return this.describe(workflowId);
  }

  /** Act on the schedule; when it went missing, recreate it from the live version (with the stored pause) first. */
  private async withSchedule<T>(workflowId: string, fn: (h: ReturnType<ScheduleService['handle']>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.handle(workflowId));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await this.sync(workflowId);
      return fn(this.handle(workflowId));
    }
  }

  async describe(workflowId: string): Promise<ScheduleView> {
    const { live, trigger } = await this.scheduledLive(workflowId);
    const d = await this.withSchedule(workflowId, (h) => h.describe());
    const iso = (t: Date) => t.toISOString();
    return {
      workflowId,
      scheduleId: d.scheduleId,
      kind: trigger.type,
      version: live.version,
      spec: trigger.cron !== undefined ? { cron: trigger.cron, timezone: trigger.timezone ?? 'UTC' } : { interval: trigger.interval },
      policies: { overlap: (d.policies.overlap ?? 'SKIP').toLowerCase(), catchupWindow: trigger.catchupWindow ?? DEFAULT_CATCHUP_WINDOW },
      ...(trigger.type === 'recurring' ? { recurring: { objectType: trigger.objectType, batchSize: trigger.batchSize ?? DEFAULT_BATCH_SIZE, filter: trigger.filter ?? null } } : {}),
      state: { paused: d.state.paused, note: d.state.note ?? null },
      nextRunTimes: d.info.nextActionTimes.map(iso),
      recentRuns: d.info.recentActions.map((a) => ({ scheduledAt: iso(a.scheduledAt), takenAt: iso(a.takenAt), workflowId: a.action.workflow.workflowId })),
      actionsTaken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      running: d.info.runningActions.length,
      temporalUrl: this.options.temporalUiUrl
        ? `${this.options.temporalUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(this.options.namespace)}/schedules/${encodeURIComponent(d.scheduleId)}`
        : undefined,
    };
  }

  /** Archive a workflow: no live version any more, its schedule deleted. */
  async archive(workflowId: string): Promise<{ archivedAt: string; schedule: SyncStatus } | undefined> {
    const archivedAt = await this.options.store.archive(workflowId);
    if (!archivedAt) return undefined;
    return { archivedAt, schedule: await this.sync(workflowId) };
  }
}
