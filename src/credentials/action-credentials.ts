/**
 * Reading a credential from inside an action. A missing, wrong-kind or
 * undecryptable credential will not heal on retry: it becomes a
 * non-retryable `CredentialError` failure naming the credential (never its
 * secret). Any other error (the database briefly away) stays retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { CredentialError, type CredentialKind, type CredentialResolver, type CredentialSecret } from './kinds';

export const CREDENTIAL_FAILURE_TYPE = 'CredentialError';

export async function credentialForAction<K extends CredentialKind>(resolver: CredentialResolver | undefined, id: string, kind: K): Promise<CredentialSecret<K>> {
  if (!resolver) {
    throw ApplicationFailure.create({ type: CREDENTIAL_FAILURE_TYPE, message: `this worker has no credential store, so credential "${id}" cannot be read`, nonRetryable: true });
  }
  try {
    return await resolver.resolve(id, kind);
  } catch (err) {
    if (err instanceof CredentialError) throw ApplicationFailure.create({ type: CREDENTIAL_FAILURE_TYPE, message: err.message, nonRetryable: true });
    throw err;
  }
}
