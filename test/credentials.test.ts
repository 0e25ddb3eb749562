/**
 * Credentials at rest: AES-256-GCM sealing (tampering, a moved ciphertext
 * and a wrong key all refuse to open), where the key comes from (and the
 * refusal to start without one outside dev mode), and the store against
 * the real PostgreSQL server: rows hold ciphertext only, resolve checks
 * kind and schema, and every failure is a CredentialError that names the
 * credential but never its secret.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { hostAllowed } from '../src/credentials/hosts';
import { CredentialError } from '../src/credentials/kinds';
import { mustUseTls } from '../src/integrations/smtp';
import { CREDENTIALS_KEY_FILE, isDevMode, loadCredentialsKey, MissingCredentialsKeyError } from '../src/credentials/key';
import { parseKey, SecretBox, SecretBoxError } from '../src/credentials/secret-box';
import { CredentialStore, InvalidSecretError } from '../src/credentials/store';
import { connectPostgres, type Db } from '../src/store/db';
import { migrate } from '../src/store/migrations';
import { TEST_DATABASE_URL } from './support/harness';

const KEY = Buffer.alloc(32, 1);

describe('SecretBox', () => {
  const box = new SecretBox(KEY);

  it('seals with a fresh nonce each time and opens what it sealed', () => {
    const a = box.seal('{"token":"abc"}', 'credential:cred_1:slack');
    const b = box.seal('{"token":"abc"}', 'credential:cred_1:slack');
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^v1\\.${box.fingerprint}\\.[A-Za-z0-9_-]+$`));
    expect(a).not.toContain('abc');
    expect(box.open(a, 'credential:cred_1:slack')).toBe('{"token":"abc"}');
  });

  it('refuses a ciphertext moved to another credential or kind, altered, or sealed under another key', () => {
    const sealed = box.seal('secret', 'credential:cred_1:slack');
    expect(() => box.open(sealed, 'credential:cred_2:slack')).toThrow('the stored secret failed authentication (altered, or moved from another credential)');
    expect(() => box.open(sealed, 'credential:cred_1:https')).toThrow(SecretBoxError);
    const [version, fingerprint, payload] = sealed.split('.');
    const bytes = Buffer.from(payload, 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(() => box.open(`${version}.${fingerprint}.${bytes.toString('base64url')}`, 'credential:cred_1:slack')).toThrow('failed authentication');
    const other = new SecretBox(Buffer.alloc(32, 2));
    expect(() => other.open(sealed, 'credential:cred_1:slack')).toThrow(`the secret was encrypted with another key (fingerprint ${box.fingerprint}; CREDENTIALS_KEY has ${other.fingerprint})`);
    expect(() => box.open('plaintext', 'x')).toThrow('the stored secret is not in a known format');
  });

  it('takes a 32-byte key as hex or base64, and nothing else', () => {
    const hex = 'ab'.repeat(32);
    expect(parseKey(hex)).toEqual(Buffer.from(hex, 'hex'));
    expect(parseKey(` ${KEY.toString('base64')}\n`)).toEqual(KEY);
    expect(parseKey(Buffer.alloc(32, 250).toString('base64url'))).toEqual(Buffer.alloc(32, 250));
    for (const bad of ['', 'ab'.repeat(31), Buffer.alloc(16).toString('base64'), 'not a key at all']) {
      expect(() => parseKey(bad)).toThrow('CREDENTIALS_KEY must be 32 bytes as 64 hex digits or as base64');
    }
  });
});

describe('the credentials key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idw-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses CREDENTIALS_KEY when set, in any mode', () => {
    const hex = 'cd'.repeat(32);
    expect(loadCredentialsKey({ env: { CREDENTIALS_KEY: hex, DATABASE_URL: 'postgres://db/x', NODE_ENV: 'production' }, dataDir: dir })).toEqual(Buffer.from(hex, 'hex'));
    expect(() => loadCredentialsKey({ env: { CREDENTIALS_KEY: 'short' }, dataDir: dir })).toThrow('CREDENTIALS_KEY must be 32 bytes');
  });

  it('refuses to start without one outside dev mode', () => {
    const production = { DATABASE_URL: 'postgres://db/x', NODE_ENV: 'production' };
    expect(isDevMode(production)).toBe(false);
    expect(() => loadCredentialsKey({ env: production, dataDir: dir })).toThrow(MissingCredentialsKeyError);
    expect(() => loadCredentialsKey({ env: production, dataDir: dir })).toThrow(/CREDENTIALS_KEY is not set: outside dev mode/);
  });

  it('in dev mode makes one key once, keeps it in DATA_DIR (owner-only) and says where', () => {
    const lines: string[] = [];
    const first = loadCredentialsKey({ env: {}, dataDir: dir, log: (l) => lines.push(l) });
    const again = loadCredentialsKey({ env: { NODE_ENV: 'development', DATABASE_URL: 'postgres://local/dev' }, dataDir: dir, log: (l) => lines.push(l) });
    expect(first).toHaveLength(32);
    expect(again).toEqual(first);
    const file = join(dir, CREDENTIALS_KEY_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString('hex'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines[0]).toBe(`credentials: secrets are encrypted with the dev key in ${file} (set CREDENTIALS_KEY to choose one)`);
    expect(lines.some((l) => l.includes('every process sharing that database needs this same key'))).toBe(true);
  });
});

describe('CredentialStore on PostgreSQL', () => {
  let db: Db;
  let store: CredentialStore;
  const schema = `t_cred_${ulid().toLowerCase()}`;

  beforeAll(async () => {
    db = await connectPostgres({ url: TEST_DATABASE_URL, schema, max: 3 });
    await migrate(db);
    store = new CredentialStore(db, KEY);
  });
  afterAll(async () => {
    await db?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await db?.close();
  });

  it('stores only ciphertext and the names of the fields that are set', async () => {
    const created = await store.create({ kind: 'smtp', name: 'Mail relay', secret: { host: 'smtp.example.com', port: 587, user: 'mailer', password: 'pa55-WORD-smtp' } });
    expect(created).toEqual({
      id: expect.stringMatching(/^cred_[0-9a-z]+$/),
      kind: 'smtp',
      name: 'Mail relay',
      secretFields: ['allowPlaintextAuth', 'host', 'password', 'port', 'requireTLS', 'secure', 'user'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM credentials WHERE id = $1', [created.id]);
    const raw = JSON.stringify(rows[0]);
    expect(raw).not.toContain('pa55-WORD-smtp');
    expect(raw).not.toContain('smtp.example.com');
    expect(raw).not.toContain('mailer');
    expect(rows[0].secret_ciphertext).toMatch(/^v1\./);
    expect(await store.resolve(created.id, 'smtp')).toEqual({ host: 'smtp.example.com', port: 587, user: 'mailer', password: 'pa55-WORD-smtp', secure: false, requireTLS: true, allowPlaintextAuth: false });
  });

  it('resolve refuses an unknown id, a malformed id and the wrong kind, naming the credential and never the secret', async () => {
    const slack = await store.create({ kind: 'slack', name: 'Alerts', secret: { token: 'xoxb-SECRET-TOKEN' } });
    await expect(store.resolve(slack.id, 'https')).rejects.toThrow(new CredentialError(`credential "${slack.id}" is of kind slack; this step needs one of kind https`));
    await expect(store.resolve('cred_doesnotexist', 'slack')).rejects.toThrow(new CredentialError('no credential "cred_doesnotexist"'));
    await expect(store.resolve('../../etc', 'slack')).rejects.toThrow(new CredentialError('"../../etc" is not a credential id (cred_...)'));
    const error = await store.resolve(slack.id, 'twilio').catch((e: Error) => e);
    expect(error).toBeInstanceOf(CredentialError);
    expect((error as Error).message).not.toContain('xoxb');
  });

  it('cannot be opened with another key, nor after its ciphertext is copied onto another credential', async () => {
    const a = await store.create({ kind: 'https', name: 'A', secret: { allowedHosts: ['a.example'], bearerToken: 'token-A' } });
    const b = await store.create({ kind: 'https', name: 'B', secret: { allowedHosts: ['b.example'], bearerToken: 'token-B' } });
    await expect(new CredentialStore(db, Buffer.alloc(32, 9)).resolve(a.id, 'https')).rejects.toThrow(/cannot be decrypted: the secret was encrypted with another key/);
    await db.query('UPDATE credentials SET secret_ciphertext = (SELECT secret_ciphertext FROM credentials WHERE id = $1) WHERE id = $2', [a.id, b.id]);
    await expect(store.resolve(b.id, 'https')).rejects.toThrow(`credential "${b.id}" cannot be decrypted: the stored secret failed authentication (altered, or moved from another credential)`);
  });

  it('an https credential stored before allowedHosts existed is sent nowhere until its secret names its hosts', async () => {
    const legacy = await store.create({ kind: 'https', name: 'legacy', secret: { allowedHosts: ['x.example'], bearerToken: 'legacy-TOKEN' } });
    // As an older version stored it: the same secret without allowedHosts.
    const sealed = new SecretBox(KEY).seal(JSON.stringify({ bearerToken: 'legacy-TOKEN' }), `credential:${legacy.id}:https`);
    await db.query('UPDATE credentials SET secret_ciphertext = $2 WHERE id = $1', [legacy.id, sealed]);
    const error = (await store.resolve(legacy.id, 'https').catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(CredentialError);
    expect(error.message).toMatch(new RegExp(`^credential "${legacy.id}" no longer fits the https schema \\(/allowedHosts: .*\\); update its secret$`));
    expect(error.message).not.toContain('legacy-TOKEN');
  });

  it('an SMTP credential stored with the old defaults (requireTLS: false) still never logs in without TLS', () => {
    const old = { host: 'smtp.example.com', port: 587, secure: false, requireTLS: false, allowPlaintextAuth: false };
    expect(mustUseTls({ ...old, user: 'mailer', password: 'p' })).toBe(true);
    expect(mustUseTls({ ...old, user: 'mailer', password: 'p', allowPlaintextAuth: true })).toBe(false);
    expect(mustUseTls(old)).toBe(false);
    expect(mustUseTls({ ...old, requireTLS: true })).toBe(true);
    // Implicit TLS is TLS from the first byte: nothing to upgrade.
    expect(mustUseTls({ ...old, secure: true, user: 'mailer' })).toBe(false);
  });

  it('matches hosts by name, *.suffix (subdomains only) and IP, ignoring case, a trailing dot and brackets', () => {
    const hosts = ['api.partner.com', '*.partner.net', '203.0.113.7', '[::1]'];
    for (const host of ['api.partner.com', 'API.Partner.COM.', 'eu.partner.net', 'a.b.partner.net', '203.0.113.7', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:203.0.113.7']) {
      expect([host, hostAllowed(hosts, host)]).toEqual([host, true]);
    }
    for (const host of ['partner.com', 'evil-api.partner.com', 'api.partner.com.evil.example', 'partner.net', 'evilpartner.net', '203.0.113.8', '127.0.0.1', '']) {
      expect([host, hostAllowed(hosts, host)]).toEqual([host, false]);
    }
  });

  it('validates a secret against its kind, with the path of every problem', async () => {
    const error = (await store.create({ kind: 'smtp', name: 'bad', secret: { host: '', port: 'twenty-five', extra: true } }).catch((e: Error) => e)) as InvalidSecretError;
    expect(error).toBeInstanceOf(InvalidSecretError);
    expect(error.issues.map((i) => i.path.join('/')).sort()).toEqual(['', 'host', 'port']);
    expect(await store.list({ kind: 'smtp' })).toHaveLength(1);
  });

  it('replaces a secret (checked against the kind it has) and deletes', async () => {
    const created = await store.create({ kind: 'hubspot', name: 'CRM', secret: { accessToken: 'old-token' } });
    const updated = await store.update(created.id, { secret: { accessToken: 'new-token', basePath: 'https://api.hubapi.example' }, name: 'CRM (EU)' });
    expect(updated).toMatchObject({ id: created.id, name: 'CRM (EU)', secretFields: ['accessToken', 'basePath'] });
    expect(await store.resolve(created.id, 'hubspot')).toEqual({ accessToken: 'new-token', basePath: 'https://api.hubapi.example' });
    await expect(store.update(created.id, { secret: { token: 'wrong shape' } })).rejects.toBeInstanceOf(InvalidSecretError);
    expect(await store.update('cred_missing', { name: 'x' })).toBeUndefined();
    expect(await store.delete(created.id)).toBe(true);
    expect(await store.delete(created.id)).toBe(false);
    await expect(store.resolve(created.id, 'hubspot')).rejects.toThrow(`no credential "${created.id}"`);
  });
});
