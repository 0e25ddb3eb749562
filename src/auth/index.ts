/** Access control: API keys, users and sessions, scopes per route, PII masking. */
export * from './access-control';
export * from './api-keys';
export * from './passwords';
export * from './pii-masking';
export * from './principal';
export * from './route-scopes';
export * from './scopes';
export * from './sessions';
export * from './users';
