/**
 * The remote codec endpoint the Temporal Web UI (and `temporal` CLI's
 * `--codec-endpoint`) call to show decoded payloads to an operator:
 * `POST /codec/decode` and `POST /codec/encode` with `{payloads: [{metadata:
 * {key: base64}, data: base64}]}`, answered in the same shape.
 *
 * Authenticated by `Authorization: Bearer <CODEC_TOKEN>`. The Web UI cannot
 * send a header of its own without an SSO login, so the token may instead be
 * the path's first segment (`/codec/<CODEC_TOKEN>/decode`); the UI's codec
 * endpoint setting then holds it, and whoever can open the UI can decode,
 * which is what the UI is for. CORS admits the UI's origins (preflight
 * included, with the `X-Namespace` header the UI sends).
 */
import cors from 'cors';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { bearerToken, tokenMatches } from '../observability/tokens';
import { ApiError, parseOr400 } from './errors';
import { STRICT_ROUTING } from './strict-routing';

export interface CodecRoutesOptions {
  codec: PayloadCodec;
  /** CODEC_TOKEN. */
  token: string;
  /** Origins allowed by CORS: the Temporal Web UI's. */
  corsOrigins: string[];
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const jsonPayload = z.object({ metadata: z.record(z.string(), base64).nullish(), data: base64.nullish() });
const payloadsBody = z.object({ payloads: z.array(jsonPayload) });
type JsonPayload = z.infer<typeof jsonPayload>;

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: p.data == null ? undefined : Buffer.from(p.data, 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data?: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    ...(p.data == null ? {} : { data: Buffer.from(p.data).toString('base64') }),
  };
}

export function codecRoutes(options: CodecRoutesOptions): Router {
  const router = Router(STRICT_ROUTING);
  const allowCors = cors({
    origin: options.corsOrigins,
    methods: ['POST', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Namespace'],
    credentials: true,
    maxAge: 600,
  });
  router.use('/codec', allowCors);
  // Preflights carry no credentials: cors answers them before authentication.
  router.options('/codec/{*rest}', allowCors);

  const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
    const presented = (req.params as { token?: string }).token ?? bearerToken(req);
    if (!tokenMatches(presented, options.token)) {
      next(new ApiError(401, 'unauthenticated', 'the codec endpoint needs Authorization: Bearer <CODEC_TOKEN>'));
      return;
    }
    next();
  };

  const handle = (operation: 'encode' | 'decode') => async (req: Request, res: Response): Promise<void> => {
    const body = parseOr400(payloadsBody, req.body, 'the codec request');
    let payloads: Payload[];
    try {
      payloads = await options.codec[operation](body.payloads.map(fromJson));
    } catch (err) {
      throw new ApiError(400, 'codec_failed', `could not ${operation} the payloads: ${(err as Error).message}`);
    }
    res.json({ payloads: payloads.map(toJson) });
  };

  for (const operation of ['encode', 'decode'] as const) {
    router.post(`/codec/${operation}`, authenticate, handle(operation));
    router.post(`/codec/:token/${operation}`, authenticate, handle(operation));
  }
  return router;
}
