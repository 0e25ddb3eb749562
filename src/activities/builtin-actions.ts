/**
 * Built-in actions that need no outside system: setting run variables and
 * writing a line to the run's log. Enough to exercise the engine end to end;
 * the integrations are their own modules.
 */
import { z } from 'zod';
import { SET_VARIABLES_ACTION, type ActionPolicy } from '../interpreter';
import { defineAction, type ActionDefinition } from './action-definition';

/** Pure, quick steps: a local activity, a few fast retries. */
const QUICK_LOCAL: ActionPolicy = {
  startToCloseTimeout: '10s',
  local: true,
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', nonRetryableErrorTypes: ['InvalidActionParams'] },
};

export const setVariables = defineAction({
  name: SET_VARIABLES_ACTION,
  title: 'Set variables',
  description: 'Compute values once and keep them as run variables (`vars.<name>`) and as this step\'s output.',
  params: z.strictObject({
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and _'), z.unknown()),
  }),
  policy: QUICK_LOCAL,
  async run(params) {
    return params.variables;
  },
});

export const logMessage = defineAction({
  name: 'log_message',
  title: 'Log a message',
  description: 'Write a message (a Liquid template) to the worker log, tagged with the run and step.',
  params: z.strictObject({
    message: z.string().min(1).max(10_000),
    level: z.enum(['info', 'warn', 'error']).default('info'),
  }),
  policy: QUICK_LOCAL,
  async run(params, context) {
    context.log(params.message, { level: params.level });
    return { logged: true, message: params.message };
  },
});

export const BUILTIN_ACTIONS: ActionDefinition<never>[] = [setVariables as ActionDefinition<never>, logMessage as ActionDefinition<never>];
