/**
 * Graceful shutdown of the real service process (`src/main.ts`, ROLE=api,
 * configured only by environment variables as in docker-compose.yml): on
 * SIGTERM it reports not-ready, stops accepting connections, lets a request
 * already in flight finish with its normal answer, and exits 0. Also: a bad
 * configuration stops the process before it starts anything, naming each
 * bad variable.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client as PgClient } from 'pg';
import { ulid } from 'ulid';
import { signBody } from '../src/events/signature';
import { TEST_DATABASE_URL, TEST_PAYLOAD_KEYS } from './support/harness';

const root = join(__dirname, '..');
const database = `idw_shutdown_${ulid().toLowerCase()}`;
const SECRET = 's'.repeat(32);

async function admin<T>(fn: (pg: PgClient) => Promise<T>): Promise<T> {
  const pg = new PgClient({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
  try {
    return await fn(pg);
  } finally {
    await pg.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Service {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, any>[];
  exited: Promise<number | null>;
  waitForLine(match: (line: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

function startService(env: Record<string, string>): Service {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
  const lines: Record<string, any>[] = [];
  const waiters: { match: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, any>;
    try {
      line = JSON.parse(text);
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const w of [...waiters]) if (w.match(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
  });
  createInterface({ input: child.stderr }).on('line', (text) => lines.push({ stderr: text }));
  return {
    child,
    lines,
    exited,
    waitForLine: (match) => {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`service exited (${code}) first; output:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)));
      });
    },
  };
}

beforeAll(async () => {
  await admin((pg) => pg.query(`CREATE DATABASE ${database}`));
});
afterAll(async () => {
  await admin((pg) => pg.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
});

it('finishes a request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
  const port = await freePort();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  const service = startService({
    ROLE: 'api',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'idw-shutdown-')),
    DATABASE_URL: url.toString(),
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    EVENTS_SIGNING_SECRET: SECRET,
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    CODEC_TOKEN: 'c'.repeat(32),
    METRICS_TOKEN: 'm'.repeat(32),
    ADMIN_PASSWORD: 'a-long-admin-password',
    SHUTDOWN_GRACE_MS: '20000',
  });
  try {
    await service.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('API listening'));
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    // A signed event whose body arrives in two parts. `Expect: 100-continue` makes the server
    // say when it holds the request, so the signal certainly lands while the request is in flight.
    const body = JSON.stringify({ id: 'evt_shutdown_1', type: 'inquiry.created', objectId: 'inq_shutdown', objectType: 'inquiry', data: {} });
    const answer = new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = request(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'idw-signature': signBody(SECRET, body), expect: '100-continue' },
      });
      req.on('continue', async () => {
        req.write(body.slice(0, 10));
        service.child.kill('SIGTERM');
        // Draining: readiness fails at once for new requests on other connections; then the listener closes.
        await service.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('SIGTERM: shutting down'));
        let refused = false;
        while (!refused) {
          refused = await fetch(`${base}/healthz`).then(
            () => false,
            (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED',
          );
        }
        req.end(body.slice(10));
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, connection: res.headers.connection }));
      });
      req.on('error', reject);
    });
    const res = await answer;
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ accepted: true, event: { id: 'evt_shutdown_1' } });
    expect(await service.exited).toBe(0);
    // The request was logged as a JSON line with its request id; the process said it stopped.
    expect(service.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'info', msg: 'POST /v1/events 202', route: '/v1/events', req: expect.objectContaining({ id: expect.any(String), method: 'POST' }), res: { statusCode: 202 } }),
        expect.objectContaining({ msg: 'stopped' }),
      ]),
    );
  } finally {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
  }
});

it('refuses to start on a bad configuration, naming every bad variable', async () => {
  const service = startService({ ROLE: 'scheduler', PORT: 'eighty', NODE_ENV: 'production', DATABASE_URL: 'postgres://x@127.0.0.1:1/none' });
  expect(await service.exited).toBe(1);
  const fatal = service.lines.find((l) => l.level === 'fatal');
  expect(fatal).toBeDefined();
  expect(fatal!.problems.map((p: { variable: string }) => p.variable).sort()).toEqual(['PORT', 'ROLE']);
  expect(fatal!.msg).toContain('ROLE: must be one of all, api, worker (got "scheduler")');
});
