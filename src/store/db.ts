/**
 * The one database interface the service uses, over a real PostgreSQL server
 * (`pg`, when DATABASE_URL is set) or embedded PostgreSQL (PGlite, a folder
 * under .data/). Same SQL dialect either way.
 */
import { mkdirSync } from 'node:fs';
import { Pool, type PoolClient, type PoolConfig } from 'pg';

/** How soon a LISTEN whose connection died is tried again on a new one. */
const LISTEN_RETRY_MS = 1_000;

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** Run a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  /**
   * Call onNotify for every NOTIFY on the channel, and with '' after listening resumed on a new
   * connection (the old one died; what was sent meanwhile is lost). Returns a function that stops listening.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Run fn in one transaction: all of it commits or none of it does. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly kind: 'postgres' | 'pglite';
}

export interface PostgresOptions {
  url: string;
  /** Every connection uses this schema first (tests isolate themselves this way). */
  schema?: string;
  max?: number;
}

export async function connectPostgres(options: PostgresOptions): Promise<Db> {
  const config: PoolConfig = { connectionString: options.url, max: options.max ?? 10 };
  if (options.schema) config.options = `-c search_path=${options.schema},public`;
  const pool = new Pool(config);
  // Idle clients can error when the server restarts; the pool replaces them.
  pool.on('error', () => undefined);
  if (options.schema) {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema.replace(/"/g, '""')}"`);
    } finally {
      client.release();
    }
  } else {
    await pool.query('SELECT 1');
  }
  return {
    kind: 'postgres',
    query: async (sql, params) => pool.query(sql, params as unknown[]) as never,
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn) {
      const client = await pool.connect();
      // A connection the server drops reports on the client even between queries; a checked-out
      // client has no other listener, so without this the process would crash. A broken client is
      // destroyed on release instead of going back to the pool.
      let broken: Error | undefined;
      const onError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async (sql, params) => client.query(sql, params as unknown[]) as never,
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      // LISTEN holds a connection of its own for as long as it lasts. When the server restarts, that
      // connection dies: its error must not crash the process (a checked-out client has no other
      // listener), and listening resumes on a new connection once the server is back. Notifications
      // sent in between are lost, so onNotify('') then says "look again".
      const quoted = `"${channel.replace(/"/g, '""')}"`;
      const handler = (msg: { channel: string; payload?: string }) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      };
      let client: PoolClient | undefined;
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      const lost = (c: PoolClient): void => {
        if (client !== c) return;
        client = undefined;
        c.off('notification', handler);
        c.release(true);
        if (!stopped) reconnectSoon();
      };
      const connect = async (): Promise<void> => {
        const c = await pool.connect();
        // Stays attached after the client is dropped: a dead connection may report more than once.
        c.on('error', () => lost(c));
        c.on('end', () => lost(c));
        c.on('notification', handler);
        try {
          await c.query(`LISTEN ${quoted}`);
        } catch (err) {
          c.off('notification', handler);
          c.release(true);
          throw err;
        }
        if (stopped) return c.release();
        client = c;
      };
      const reconnectSoon = (): void => {
        retry = setTimeout(() => {
          if (stopped) return;
          connect().then(
            () => onNotify(''),
            () => {
              if (!stopped) reconnectSoon();
            },
          );
        }, LISTEN_RETRY_MS);
        retry.unref();
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(retry);
        const c = client;
        client = undefined;
        if (!c) return;
        c.off('notification', handler);
        await c.query(`UNLISTEN ${quoted}`).catch(() => undefined);
        c.release();
      };
    },
    close: () => pool.end(),
  };
}

/** Embedded PostgreSQL; `dataDir` undefined keeps it in memory. */
export async function openPglite(dataDir?: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  // PGlite runs one statement at a time; queue transactions so they do not interleave.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    kind: 'pglite',
    query: (sql, params) => serial(() => pg.query(sql, params as unknown[]) as never),
    exec: (sql) => serial(async () => {
      await pg.exec(sql);
    }),
    transaction: (fn) =>
      serial(() =>
        pg.transaction((tx) =>
          fn({
            query: (sql, params) => tx.query(sql, params as unknown[]) as never,
            exec: async (sql) => {
              await tx.exec(sql);
            },
          }),
        ),
      ),
    async listen(channel, onNotify) {
      const stop = await pg.listen(channel, (payload) => onNotify(payload));
      return async () => {
        await stop();
      };
    },
    close: () => serial(() => pg.close()),
  };
}

/** DATABASE_URL when set, otherwise PGlite under the given folder. */
export async function openDatabase(options: { url?: string; dataDir: string; log?: (line: string) => void }): Promise<Db> {
  if (options.url) {
    options.log?.(`database: PostgreSQL at ${redact(options.url)}`);
    return connectPostgres({ url: options.url });
  }
  options.log?.(`database: embedded PostgreSQL (PGlite) in ${options.dataDir}`);
  return openPglite(options.dataDir);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
