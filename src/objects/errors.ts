/**
 * What can go wrong with an object change, as ordinary errors with stable
 * codes. The API turns them into 404 / 409 / 400, the object actions into
 * non-retryable ApplicationFailures of the type named here (retrying cannot
 * make a missing object exist or an illegal transition legal).
 */

export const ObjectFailureType = {
  NotFound: 'ObjectNotFound',
  IllegalTransition: 'IllegalTransition',
  Redacted: 'ObjectRedacted',
  InvalidReference: 'InvalidObjectReference',
  InvalidValue: 'InvalidObjectValue',
} as const;
export type ObjectFailureType = (typeof ObjectFailureType)[keyof typeof ObjectFailureType];

export abstract class ObjectError extends Error {
  abstract readonly failureType: ObjectFailureType;
}

export class ObjectNotFoundError extends ObjectError {
  readonly failureType = ObjectFailureType.NotFound;
  constructor(
    readonly objectType: string,
    readonly objectId: string,
  ) {
    super(`no ${objectType} "${objectId}"`);
    this.name = 'ObjectNotFoundError';
  }
}

export class IllegalTransitionError extends ObjectError {
  readonly failureType = ObjectFailureType.IllegalTransition;
  constructor(
    readonly objectType: string,
    readonly objectId: string,
    readonly from: string,
    readonly to: string,
    readonly allowed: readonly string[],
  ) {
    const next = allowed.length > 0 ? `it can move to ${allowed.join(', ')}` : `${from} is final`;
    super(`${objectType} ${objectId} cannot move from ${from} to ${to}; ${next}`);
    this.name = 'IllegalTransitionError';
  }
}

/** A fully redacted person's data may not be written again: redaction is meant to be final. */
export class ObjectRedactedError extends ObjectError {
  readonly failureType = ObjectFailureType.Redacted;
  constructor(
    readonly objectType: string,
    readonly objectId: string,
  ) {
    super(`${objectType} ${objectId} is redacted; its personal data cannot be written again`);
    this.name = 'ObjectRedactedError';
  }
}

/** A body names another object (a link, an account) that does not exist or has the wrong type. */
export class InvalidReferenceError extends ObjectError {
  readonly failureType = ObjectFailureType.InvalidReference;
  constructor(
    /** JSON Pointer of the reference inside the request body or the action's params. */
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidReferenceError';
  }
}

/** A value is well-formed JSON but wrong for where it goes (e.g. not an email for an email list). */
export class InvalidValueError extends ObjectError {
  readonly failureType = ObjectFailureType.InvalidValue;
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidValueError';
  }
}
