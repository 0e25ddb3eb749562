/** Encrypted Temporal payloads: the codec, its keys, and the data converter every client and worker uses. */
import type { DataConverter, PayloadCodec } from '@temporalio/common';

export { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from './aes-gcm-codec';
export { loadPayloadKeys, parsePayloadKeys, PayloadKeysError, PAYLOAD_KEY_FILE, type PayloadKey } from './keys';

/** The data converter for a Client, a Worker or a replay: default JSON payloads, then the codec. */
export function encryptedDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec] };
}
