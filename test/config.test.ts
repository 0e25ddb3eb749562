/**
 * Start-up configuration: every variable is checked at once, and each
 * problem is reported with its variable's name (secrets' values never
 * echoed); production must be given its secrets.
 */
import { randomBytes } from 'node:crypto';
import { CONFIG_VARIABLES, ConfigError, loadConfig, PRODUCTION_SECRETS } from '../src/config';

function problemsOf(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://idw:secret@postgresql:5432/identity_workflows',
  TEMPORAL_ADDRESS: 'temporal:7233',
  EVENTS_SIGNING_SECRET: 'e'.repeat(32),
  CREDENTIALS_KEY: randomBytes(32).toString('hex'),
  PAYLOAD_KEYS: `k2:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`,
  CODEC_TOKEN: 'c'.repeat(32),
  METRICS_TOKEN: 'm'.repeat(32),
};

describe('loadConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      role: 'all',
      host: '127.0.0.1',
      port: 3000,
      production: false,
      temporalPort: 7233,
      temporalUiPort: 8233,
      temporalUiUrl: 'http://localhost:8233',
      namespace: 'default',
      taskQueue: 'identity-workflows',
      publicBaseUrl: 'http://127.0.0.1:3000',
      httpAllowList: [],
      codecCorsOrigins: ['http://localhost:8233', 'http://127.0.0.1:8233'],
      logLevel: 'info',
      shutdownGraceMs: 30_000,
    });
    expect(config.payloadKeys).toBeUndefined();
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('reads a full production environment', () => {
    const config = loadConfig({ ...production, ROLE: 'worker', PORT: '8080', HTTP_ALLOW_LIST: 'crm.internal, 10.0.0.0/8', CODEC_CORS_ORIGINS: 'https://temporal.example.com', LOG_LEVEL: 'warn' });
    expect(config).toMatchObject({ role: 'worker', port: 8080, production: true, temporalAddress: 'temporal:7233', httpAllowList: ['crm.internal', '10.0.0.0/8'], codecCorsOrigins: ['https://temporal.example.com'], logLevel: 'warn' });
    expect(config.payloadKeys!.map((k) => k.id)).toEqual(['k2', 'k1']);
    // Without a Web UI URL there is nothing to link to.
    expect(config.temporalUiUrl).toBeUndefined();
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', ROLE: '', TEMPORAL_ADDRESS: '' })).toMatchObject({ port: 3000, role: 'all', temporalAddress: undefined });
  });

  it.each([
    ['ROLE', 'scheduler', /must be one of all, api, worker \(got "scheduler"\)/],
    ['PORT', 'eighty', /must be a port number/],
    ['PORT', '70000', /must be a port number/],
    ['TEMPORAL_UI_PORT', '-1', /must be a port number/],
    ['DATABASE_URL', 'mysql://db/x', /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233', /must be host:port/],
    ['TEMPORAL_UI_URL', 'localhost:8233', /must be an http\(s\) URL/],
    ['PUBLIC_BASE_URL', 'ftp://x', /must be an http\(s\) URL/],
    ['CODEC_CORS_ORIGINS', 'http://ok.example,not a url', /must be an http\(s\) URL/],
    ['LOG_LEVEL', 'loud', /must be one of fatal, error, warn, info, debug, trace, silent/],
    ['SHUTDOWN_GRACE_MS', '5s', /must be a whole number/],
    ['RATE_LIMIT_EVENTS_PER_MIN', '-3', /must be a whole number/],
  ])('reports %s=%j', (variable, value, message) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0].variable).toBe(variable);
    expect(problems[0].message).toMatch(message);
  });

  it('reports bad secrets by name without echoing their values', () => {
    const problems = problemsOf({ CREDENTIALS_KEY: 'not-a-key', PAYLOAD_KEYS: 'k1:short', CODEC_TOKEN: 'tiny', METRICS_TOKEN: 'tiny2', EVENTS_SIGNING_SECRET: 'abc', ADMIN_PASSWORD: 'pw' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['ADMIN_PASSWORD', 'CODEC_TOKEN', 'CREDENTIALS_KEY', 'EVENTS_SIGNING_SECRET', 'METRICS_TOKEN', 'PAYLOAD_KEYS']);
    expect(problems.find((p) => p.variable === 'PAYLOAD_KEYS')!.message).toMatch(/key "k1" must be 32 bytes/);
    expect(problems.find((p) => p.variable === 'CREDENTIALS_KEY')!.message).toMatch(/32 bytes/);
    for (const p of problems) expect(p.message).not.toMatch(/not-a-key|short|tiny|"abc"|"pw"/);
  });

  it('lists every problem at once in one readable message', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'x', ROLE: 'y' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('invalid configuration:\n  - ROLE: must be one of all, api, worker (got "y")\n  - PORT: must be a port number (0-65535) (got "x")');
  });

  it('requires each production secret in production, naming every missing one', () => {
    for (const secret of PRODUCTION_SECRETS) {
      const env: NodeJS.ProcessEnv = { ...production };
      delete env[secret];
      const problems = problemsOf(env);
      expect(problems).toEqual([{ variable: secret, message: expect.stringMatching(/is required in production/) }]);
    }
    expect(problemsOf({ NODE_ENV: 'production', DATABASE_URL: production.DATABASE_URL }).map((p) => p.variable)).toEqual([...PRODUCTION_SECRETS]);
  });

  it('knows every variable it validates', () => {
    expect(new Set(CONFIG_VARIABLES).size).toBe(CONFIG_VARIABLES.length);
    for (const secret of PRODUCTION_SECRETS) expect(CONFIG_VARIABLES).toContain(secret);
  });
});

describe('README.md', () => {
  it('documents every variable in its one configuration table', () => {
    const readme = require('node:fs').readFileSync(require('node:path').join(__dirname, '..', 'README.md'), 'utf8') as string;
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Production deployment'));
    const documented = new Set([...section.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((v) => v[1])));
    for (const variable of CONFIG_VARIABLES) expect({ variable, documented: documented.has(variable) }).toEqual({ variable, documented: true });
    // One table: no other section has a row naming a variable.
    expect(readme.split('| variable | default | meaning |').length).toBe(2);
  });
});
