/**
 * Covers temporal/: resolving the CLI binary and the dev server lifecycle, against the real
 * binary and real processes.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureTemporalCli } from '../temporal/cli';
import { DevServer, ensureSearchAttributes, startDevServer } from '../temporal/dev-server';

jest.setTimeout(120_000);

const { IndexedValueType } = temporal.api.enums.v1;
const quiet = () => undefined;

let cliPath: string;
let tmp: string;

beforeAll(async () => {
  cliPath = await ensureTemporalCli({ log: quiet });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'idflow-temporal-test-'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ensureTemporalCli', () => {
  const saved = process.env.TEMPORAL_CLI_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
    else process.env.TEMPORAL_CLI_PATH = saved;
  });

  it('returns TEMPORAL_CLI_PATH when it is executable', async () => {
    process.env.TEMPORAL_CLI_PATH = cliPath;
    await expect(ensureTemporalCli({ log: quiet })).resolves.toBe(cliPath);
  });

  it('rejects a TEMPORAL_CLI_PATH that is not executable, naming it', async () => {
    const notExecutable = path.join(tmp, 'temporal-not-executable');
    fs.writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    process.env.TEMPORAL_CLI_PATH = notExecutable;
    await expect(ensureTemporalCli({ log: quiet })).rejects.toThrow(
      `TEMPORAL_CLI_PATH points to ${notExecutable}, which is not executable`,
    );
  });

  it('rejects a TEMPORAL_CLI_PATH that does not exist', async () => {
    const missing = path.join(tmp, 'no-such-temporal');
    process.env.TEMPORAL_CLI_PATH = missing;
    await expect(ensureTemporalCli({ log: quiet })).rejects.toThrow(`${missing}, which does not exist`);
  });
});

describe('startDevServer', () => {
  let server: DevServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('starts headless on SQLite with search attributes, then stops', async () => {
    const dbFilename = path.join(tmp, 'nested', 'dir', 'temporal.sqlite');
    const lines: string[] = [];
    server = await startDevServer({
      cliPath,
      headless: true,
      dbFilename,
      searchAttributes: { IdflowTestKeyword: 'Keyword', IdflowTestInt: 'Int' },
      log: (line) => lines.push(line),
    });
    expect(server.namespace).toBe('default');
    expect(server.uiUrl).toBeUndefined();
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(fs.existsSync(dbFilename)).toBe(true);
    expect(lines.every((line) => line.startsWith('[temporal] '))).toBe(true);

    const connection = await Connection.connect({ address: server.address });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(customAttributes?.IdflowTestKeyword).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      expect(customAttributes?.IdflowTestInt).toBe(IndexedValueType.INDEXED_VALUE_TYPE_INT);
    } finally {
      await connection.close();
    }

    const child = server.process;
    const port = Number(server.address.split(':')[1]);
    await server.stop();
    server = undefined;
    expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
    await expect(canConnect(port)).resolves.toBe(false);
  });

  it('registers search attributes added since a reused SQLite file was created', async () => {
    const dbFilename = path.join(tmp, 'reused.sqlite');
    const first = { IdflowFirst: 'Keyword' } as const;
    server = await startDevServer({ cliPath, headless: true, dbFilename, searchAttributes: first, log: quiet });
    await server.stop();
    server = await startDevServer({
      cliPath,
      headless: true,
      dbFilename,
      searchAttributes: { IdflowFirst: 'Keyword', IdflowLater: 'Datetime' },
      log: quiet,
    });

    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(customAttributes?.IdflowFirst).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD);
      expect(customAttributes?.IdflowLater).toBe(IndexedValueType.INDEXED_VALUE_TYPE_DATETIME);
    } finally {
      await connection.close();
    }
  });

  it('ensureSearchAttributes adds missing attributes idempotently and refuses a type change', async () => {
    server = await startDevServer({ cliPath, headless: true, log: quiet });
    await ensureSearchAttributes(server.address, 'default', { IdflowAdded: 'KeywordList' }, { log: quiet });
    await ensureSearchAttributes(server.address, 'default', { IdflowAdded: 'KeywordList' }, { log: quiet });

    const connection = await Connection.connect({ address: server.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(customAttributes?.IdflowAdded).toBe(IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST);
    } finally {
      await connection.close();
    }

    await expect(
      ensureSearchAttributes(server.address, 'default', { IdflowAdded: 'Int' }, { log: quiet }),
    ).rejects.toThrow(/IdflowAdded already exists .* as INDEXED_VALUE_TYPE_KEYWORD_LIST, but Int is needed/);
  });

  it('rejects with the stderr tail when the server exits before becoming ready', async () => {
    // Any TCP listener makes start-dev fail to bind; it also accepts the readiness probe's
    // connection, which must be dropped or close() would wait for it forever.
    const accepted = new Set<net.Socket>();
    const blocker = net.createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startDevServer({ cliPath, headless: true, port, log: quiet })).rejects.toThrow(
        /start-dev exited with code \d+ before becoming ready. Last stderr lines:\n.*address already in use/,
      );
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
