/**
 * docker-compose.yml, without a Docker engine: valid against the Compose
 * Specification's JSON schema (as shipped by the dclint package), and in
 * step with the code: the variables our services get are the ones
 * src/config.ts reads and validate as a production configuration, every
 * secret comes from the environment and is required, ROLE values, ports and
 * health checks match, the Dockerfile runs our entry point, the registered
 * search attributes are SEARCH_ATTRIBUTE_TYPES, and the Web UI's codec
 * endpoint is our /codec route.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, PRODUCTION_SECRETS, ROLES } from '../src/config';
import { SEARCH_ATTRIBUTE_TYPES } from '../src/workflows/run-contract';

const root = join(__dirname, '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
interface Service {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  command?: string | string[];
  volumes?: string[];
}
const ours = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
const service = (name: string): Service => compose.services[name] ?? fail(`no service ${name}`);
function fail(message: string): never {
  throw new Error(message);
}

/** Compose's variable interpolation: `${VAR:?message}`, `${VAR:-default}`, `${VAR}`, and `$$` for a literal `$`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
      const set = env[name];
      if (set !== undefined && set !== '') return set;
      if (op === '?') throw new Error(`${name} is required: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    })
    .replace(/\$\$/g, '$');
}

/** What an operator would put in .env (see README.md, Production deployment). */
const operatorEnv = {
  POSTGRES_PASSWORD: 'pg-password-123',
  EVENTS_SIGNING_SECRET: 'e'.repeat(64),
  CREDENTIALS_KEY: 'ab'.repeat(32),
  PAYLOAD_KEYS: `2025-06:${Buffer.alloc(32, 7).toString('base64')},2024-01:${Buffer.alloc(32, 8).toString('base64')}`,
  CODEC_TOKEN: 'c'.repeat(40),
  METRICS_TOKEN: 'm'.repeat(40),
};

const environmentOf = (name: string, env: Record<string, string> = operatorEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]));

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification JSON schema', () => {
    const schemaPath = join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    // The schema names draft-07 by an https URL Ajv does not know; the schema itself is plain draft-07.
    const validate = new Ajv({ strict: false, allErrors: true, validateSchema: false }).compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // And the validator does catch mistakes of the kind this file could have.
    const broken = structuredClone(compose) as any;
    broken.services.api.restart = 5;
    broken.services.worker.healthcheck.retry = 3;
    expect(validate(broken)).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath).sort()).toEqual(['/services/api/restart', '/services/worker/healthcheck']);
  });

  it('runs PostgreSQL, Temporal with its schema job, the Web UI, the API and the worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui', 'worker']);
    expect(service('postgresql').image).toMatch(/^postgres:\d+/);
    expect(service('postgresql').volumes).toEqual(['postgresql-data:/var/lib/postgresql/data']);
    expect(compose.volumes).toHaveProperty('postgresql-data');
    expect(service('temporal').image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(service('temporal').environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(service('temporal').depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    const schemaJob = String(service('temporal-schema').command);
    for (const db of ['temporal', 'temporal_visibility']) {
      expect(schemaJob).toContain(`--db ${db} setup-schema`);
      expect(schemaJob).toContain(`--db ${db} update-schema`);
    }
    // The Temporal server, the schema job and the UI run one version line; images are pinned.
    for (const [name, s] of Object.entries(compose.services)) if (s.image && !s.build) expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:\d+(\.\d+)+$/) });
  });

  it('gives every long-running service a health check and a restart policy; one-shot jobs restart only on failure', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const oneShot = name === 'temporal-schema' || name === 'temporal-setup';
      expect({ name, restart: s.restart }).toEqual({ name, restart: oneShot ? expect.stringMatching(/^on-failure/) : 'unless-stopped' });
      if (!oneShot && name !== 'temporal-ui') expect({ name, healthcheck: Boolean(s.healthcheck) }).toEqual({ name, healthcheck: true });
    }
    for (const name of ['api', 'worker']) {
      expect(service(name).depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' }, 'temporal-setup': { condition: 'service_completed_successfully' } });
    }
  });

  it('registers exactly the search attributes of SEARCH_ATTRIBUTE_TYPES', () => {
    const script = String(service('temporal-setup').command);
    const registered = Object.fromEntries([...script.matchAll(/^\s*add (\w+) (\w+)\s*$/gm)].map((m) => [m[1], m[2]]));
    expect(registered).toEqual(SEARCH_ATTRIBUTE_TYPES);
  });

  it('takes every secret from the environment, required, and never writes one in the file', () => {
    for (const [name] of ours) {
      const env = service(name).environment!;
      for (const secret of PRODUCTION_SECRETS) expect({ name, secret, value: env[secret] }).toEqual({ name, secret, value: expect.stringMatching(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`)) });
      expect(env.DATABASE_URL).toMatch(/\$\{POSTGRES_PASSWORD:\?/);
      expect(() => environmentOf(name, { ...operatorEnv, CODEC_TOKEN: '' })).toThrow(/CODEC_TOKEN is required/);
    }
    expect(service('postgresql').environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    for (const value of Object.values(operatorEnv)) expect(composeText).not.toContain(value);
  });

  it('gives our services only variables the code reads, and they pass its start-up validation as production', () => {
    const roles: string[] = [];
    for (const [name] of ours) {
      const env = environmentOf(name);
      for (const variable of Object.keys(env)) expect({ name, variable, known: (CONFIG_VARIABLES as readonly string[]).includes(variable) }).toEqual({ name, variable, known: true });
      const config = loadConfig(env);
      expect(config.production).toBe(true);
      expect(ROLES).toContain(config.role);
      roles.push(`${name}:${config.role}`);
      expect(config.temporalAddress).toBe('temporal:7233');
      expect(config.payloadKeys!.map((k) => k.id)).toEqual(['2025-06', '2024-01']);
    }
    expect(roles.sort()).toEqual(['api:api', 'worker:worker']);
  });

  it('scales the worker: no fixed container name, no host port', () => {
    expect(service('worker').container_name).toBeUndefined();
    expect(service('worker').ports).toBeUndefined();
  });

  it('publishes the API on its PORT, and health-checks each service of ours on its own PORT', () => {
    const apiPort = loadConfig(environmentOf('api')).port;
    expect(service('api').ports).toEqual([`127.0.0.1:${apiPort}:${apiPort}`]);
    for (const [name] of ours) {
      const port = loadConfig(environmentOf(name)).port;
      expect(service(name).healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${port}/readyz`);
    }
  });

  it('points the Web UI at Temporal, configures no codec endpoint into it (no token handed to visitors), and lets the UI origin through the codec CORS', () => {
    const ui = environmentOf('temporal-ui');
    expect(ui.TEMPORAL_ADDRESS).toBe(loadConfig(environmentOf('api')).temporalAddress);
    const api = loadConfig(environmentOf('api'));
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBeUndefined();
    const uiHostPort = service('temporal-ui').ports![0].split(':').at(-2);
    expect(api.codecCorsOrigins).toEqual([`http://localhost:${uiHostPort}`]);
    expect(api.temporalUiUrl).toBe(`http://localhost:${uiHostPort}`);
  });

  it('publishes no port on all interfaces: every published port is bound to loopback (finding 5)', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, p] as const));
    // Temporal's gRPC, the Web UI and the API at least: the check below has something to check.
    expect(published.map(([name]) => name).sort()).toEqual(['api', 'temporal', 'temporal-ui']);
    for (const [name, port] of published) {
      // Short syntax only (long syntax would need host_ip checked instead): [IP:]HOST:CONTAINER with a loopback IP.
      expect([name, typeof port]).toEqual([name, 'string']);
      expect([name, port]).toEqual([name, expect.stringMatching(/^(127\.0\.0\.1|\[::1\]):\d+:\d+$/)]);
    }
    // Temporal's gRPC (no authentication) in particular.
    expect(service('temporal').ports).toEqual(['127.0.0.1:7233:7233']);
  });

  it('puts no secret into a URL of any service (the Web UI hands its URLs to every visitor) (finding 5)', () => {
    const secrets = Object.values(operatorEnv).filter((v) => v.length >= 16);
    for (const [name] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(environmentOf(name))) {
        if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^postgres(ql)?:/.test(value)) continue;
        for (const secret of secrets) expect([name, key, value.includes(secret)]).toEqual([name, key, false]);
      }
    }
    // The raw file neither: no CODEC_TOKEN interpolated into anything but the api's own variable.
    expect(composeText.match(/\$\{CODEC_TOKEN[^}]*\}/g)).toHaveLength(1);
    expect(composeText).not.toMatch(/\/codec\/\$\{CODEC_TOKEN/);
  });

  it('builds our services from the Dockerfile, whose entry point is src/main.ts on the exposed PORT', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    const entry = cmd.find((part) => part.endsWith('.ts'))!;
    expect(existsSync(join(root, entry))).toBe(true);
    expect(entry).toBe('src/main.ts');
    expect(cmd.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    for (const dir of ['src', 'temporal']) expect(dockerfile).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
    expect(/^EXPOSE (\d+)$/m.exec(dockerfile)![1]).toBe(String(loadConfig(environmentOf('api')).port));
    for (const [name, s] of ours) {
      expect({ name, build: s.build, image: s.image }).toEqual({ name, build: '.', image: 'identity-workflows:local' });
    }
  });
});
