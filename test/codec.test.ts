/**
 * The payload codec on its own: AES-256-GCM round trips, key rotation (the
 * newest key encrypts, every configured key decrypts), pass-through of
 * payloads written before encryption, and refusal of altered data or an
 * unknown key.
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, loadPayloadKeys, parsePayloadKeys, PayloadDecryptionError, PayloadKeysError } from '../src/codec';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const person = { name: 'Grace Hopper', birthdate: '1906-12-09', idNumber: 'X-1234-5678' };

describe('AesGcmPayloadCodec', () => {
  const plain: Payload = defaultPayloadConverter.toPayload(person)!;

  it('encrypts a payload so none of its content is readable, and decrypts it back exactly', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted.metadata![KEY_ID_METADATA])).toBe('k1');
    const raw = Buffer.from(encrypted.data!).toString('latin1');
    for (const value of [...Object.values(person), 'json/plain']) expect(raw).not.toContain(value);
    const [decrypted] = await codec.decode([encrypted]);
    expect(defaultPayloadConverter.fromPayload(decrypted)).toEqual(person);
    expect(text(decrypted.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV each time: the same payload encrypts differently', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('rotates keys: the first key encrypts, an older key still decrypts what it encrypted', async () => {
    const old = key('2024-01');
    const current = key('2025-06');
    const [byOld] = await new AesGcmPayloadCodec([old]).encode([plain]);
    const rotated = new AesGcmPayloadCodec([current, old]);
    const [byCurrent] = await rotated.encode([plain]);
    expect(text(byCurrent.metadata![KEY_ID_METADATA])).toBe('2025-06');
    const decoded = await rotated.decode([byOld, byCurrent]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([person, person]);
    // Once the old key is dropped, its payloads can no longer be read, and the error says which key is missing.
    await expect(new AesGcmPayloadCodec([current]).decode([byOld])).rejects.toThrow(/key "2024-01", which is not among PAYLOAD_KEYS/);
  });

  it('passes payloads without the encryption metadata through decode (histories from before encryption)', async () => {
    const codec = new AesGcmPayloadCodec([key('k1')]);
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('refuses altered data, a wrong key under the same id, and a swapped key id', async () => {
    const k = key('k1');
    const codec = new AesGcmPayloadCodec([k]);
    const [encrypted] = await codec.encode([plain]);
    const altered = Buffer.from(encrypted.data!);
    altered[20] ^= 1;
    await expect(codec.decode([{ ...encrypted, data: altered }])).rejects.toThrow(PayloadDecryptionError);
    await expect(new AesGcmPayloadCodec([key('k1')]).decode([encrypted])).rejects.toThrow(/failed authentication/);
    // The key id is authenticated data: relabelling a payload with another configured key's id fails too.
    const both = new AesGcmPayloadCodec([k, { id: 'k2', key: k.key }]);
    const relabelled = { ...encrypted, metadata: { ...encrypted.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(both.decode([relabelled])).rejects.toThrow(/failed authentication/);
  });
});

describe('PAYLOAD_KEYS', () => {
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');

  it('parses id:base64key entries in order, newest first', () => {
    const keys = parsePayloadKeys(` new:${k1}, old:${k2} `);
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[0].key.toString('base64')).toBe(k1);
  });

  it.each([
    ['', /at least one/],
    [`${k1}`, /entry 1 is not `id:base64key`/],
    [`a:${k1},a:${k2}`, /key id "a" is listed twice/],
    [`bad id:${k1}`, /key id "bad id"/],
    ['short:AAAA', /key "short" must be 32 bytes in base64/],
    [`junk:${k1.slice(0, -4)}!!!!`, /key "junk" must be 32 bytes/],
  ])('rejects %j', (raw, message) => {
    expect(() => parsePayloadKeys(raw)).toThrow(PayloadKeysError);
    expect(() => parsePayloadKeys(raw)).toThrow(message);
  });

  it('without configured keys, makes one dev key under the data folder and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'idw-keys-'));
    const first = loadPayloadKeys({ dataDir: dir });
    const again = loadPayloadKeys({ dataDir: dir });
    expect(first).toHaveLength(1);
    expect(first[0].id).toMatch(/^local-[0-9a-f]{8}$/);
    expect(again[0].key.equals(first[0].key)).toBe(true);
    expect(readFileSync(join(dir, 'payload-key'), 'utf8').trim()).toBe(first[0].key.toString('hex'));
  });
});
