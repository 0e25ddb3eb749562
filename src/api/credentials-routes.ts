/**
 * /v1/credentials (connections) and /v1/request-templates. A credential's
 * secret goes in (checked against its kind's schema, 400 with the path of
 * every problem, e.g. /secret/port) and never comes out: answers carry the
 * id, kind, name, timestamps and the names of the secret's fields that are
 * set. Request templates are plain data that https_request steps name.
 */
import { Router } from 'express';
import { z } from 'zod';
import { credentialEndpoints } from '../credentials/endpoints';
import { hostAllowed } from '../credentials/hosts';
import { CREDENTIAL_KINDS, CredentialError, type CredentialKind } from '../credentials/kinds';
import { CredentialStore, InvalidSecretError } from '../credentials/store';
import { HttpNetworkError, RequestBlockedError } from '../http/errors';
import { NetworkGuard } from '../http/network-guard';
import { RequestTemplateStore, TemplateCredentialError, templateInput, type TemplateInput } from '../http/request-templates';
import type { Queryable } from '../store/db';
import { ApiError, notFound, parseOr400, pointer } from './errors';
import { STRICT_ROUTING } from './strict-routing';

const KINDS = Object.keys(CREDENTIAL_KINDS) as [CredentialKind, ...CredentialKind[]];

const createCredentialBody = z.strictObject({
  kind: z.enum(KINDS),
  name: z.string().trim().min(1).max(200),
  secret: z.unknown().optional(),
});

const updateCredentialBody = z.strictObject({
  /** The whole new secret: it replaces the old one (nothing is merged, so nothing stale survives). */
  secret: z.unknown().optional(),
  name: z.string().trim().min(1).max(200).optional(),
});

const listQuery = z.strictObject({ kind: z.enum(KINDS).optional() });

export interface CredentialRoutesDeps {
  credentials: CredentialStore;
  db: Queryable;
  /** The webhooks' SSRF guard (HTTP_ALLOW_LIST), which checks a credential's addresses when saved; without it only public https addresses pass. */
  webhooks?: { guard: NetworkGuard };
}

export function credentialRoutes(deps: CredentialRoutesDeps): Router {
  const router = Router(STRICT_ROUTING);
  const { credentials } = deps;
  const templates = new RequestTemplateStore(deps.db);
  const guard = deps.webhooks?.guard ?? new NetworkGuard({ allowList: [] });

  /**
   * The secret, checked against its kind's schema, and every address it
   * points a client at (base URLs, an SMTP host) checked by the SSRF guard
   * now, as a webhook's URL is: a loopback or plain-http endpoint the
   * allow-list does not name is refused when saved, not at the first run.
   */
  async function checkedSecret(kind: CredentialKind, secret: unknown): Promise<Record<string, unknown>> {
    const parsed = CREDENTIAL_KINDS[kind].safeParse(secret);
    if (!parsed.success) throw secretProblems(new InvalidSecretError(kind, parsed.error.issues));
    const data = parsed.data as Record<string, unknown>;
    const problems: { path: string; message: string }[] = [];
    for (const endpoint of credentialEndpoints(kind, data)) {
      const path = pointer(['secret', ...endpoint.path]);
      let url: URL;
      try {
        url = new URL(endpoint.url);
      } catch {
        problems.push({ path, message: 'not a URL' });
        continue;
      }
      try {
        await guard.check(url);
      } catch (err) {
        if (err instanceof RequestBlockedError) problems.push({ path, message: err.message });
        else if (err instanceof HttpNetworkError) {
          // A name that does not resolve yet may later (it is checked again at every use), but only over https.
          if (!endpoint.http || url.protocol === 'https:') continue;
          problems.push({ path, message: `plain http is only allowed for allow-listed hosts, and ${err.message}` });
        } else throw err;
      }
    }
    if (problems.length > 0) throw new ApiError(400, 'invalid_request', `the ${kind} credential points at an address this service may not reach`, problems);
    return data;
  }

  /** A template's URL must be one its credential may be sent to (a step cannot change it later). */
  async function checkTemplateHost(body: TemplateInput): Promise<void> {
    if (!body.credential) return;
    const record = await credentials.get(body.credential);
    // A missing or wrong-kind credential is refused by the template store with its own message.
    if (!record || record.kind !== 'https') return;
    let allowedHosts: readonly string[];
    try {
      allowedHosts = (await credentials.resolve(body.credential, 'https')).allowedHosts;
    } catch (err) {
      if (err instanceof CredentialError) throw new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: '/credential', message: err.message }]);
      throw err;
    }
    const host = new URL(body.url).hostname;
    if (!hostAllowed(allowedHosts, host)) {
      throw new ApiError(400, 'invalid_request', 'request body is invalid', [
        { path: '/url', message: `credential "${body.credential}" may only be sent to ${allowedHosts.join(', ')}, not to ${host}` },
      ]);
    }
  }

  /** The secret's problems, each with its path under /secret. */
  const secretProblems = (err: InvalidSecretError): ApiError =>
    new ApiError(
      400,
      'invalid_request',
      `the secret does not fit a ${err.kind} credential`,
      err.issues.map((i) => ({ path: pointer(['secret', ...i.path]), message: i.message })),
    );

  router.post('/credentials', async (req, res) => {
    const body = parseOr400(createCredentialBody, req.body, 'request body');
    if (body.secret === undefined) throw new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: '/secret', message: 'a secret is required' }]);
    const secret = await checkedSecret(body.kind, body.secret);
    try {
      res.status(201).json(await credentials.create({ kind: body.kind, name: body.name, secret }));
    } catch (err) {
      if (err instanceof InvalidSecretError) throw secretProblems(err);
      throw err;
    }
  });

  router.get('/credentials', async (req, res) => {
    const query = parseOr400(listQuery, req.query, 'query');
    res.json({ credentials: await credentials.list({ kind: query.kind }) });
  });

  router.get('/credentials/:id', async (req, res) => {
    const found = await credentials.get(req.params.id);
    if (!found) throw notFound('credential', req.params.id);
    res.json(found);
  });

  router.put('/credentials/:id', async (req, res) => {
    const body = parseOr400(updateCredentialBody, req.body, 'request body');
    if (body.secret === undefined) throw new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: '/secret', message: 'a secret is required' }]);
    const existing = await credentials.get(req.params.id);
    if (!existing) throw notFound('credential', req.params.id);
    const secret = await checkedSecret(existing.kind, body.secret);
    try {
      const updated = await credentials.update(req.params.id, { secret, name: body.name });
      if (!updated) throw notFound('credential', req.params.id);
      res.json(updated);
    } catch (err) {
      if (err instanceof InvalidSecretError) throw secretProblems(err);
      throw err;
    }
  });

  router.delete('/credentials/:id', async (req, res) => {
    const users = await templates.usingCredential(req.params.id);
    if (users.length > 0) {
      throw new ApiError(409, 'credential_in_use', `credential "${req.params.id}" is used by request template${users.length > 1 ? 's' : ''} ${users.join(', ')}`);
    }
    if (!(await credentials.delete(req.params.id).catch(inUse(req.params.id)))) throw notFound('credential', req.params.id);
    res.status(204).end();
  });

  router.post('/request-templates', async (req, res) => {
    const body = parseOr400(templateInput, req.body, 'request body');
    await checkTemplateHost(body);
    res.status(201).json(await templates.create(body).catch(badCredential));
  });

  router.get('/request-templates', async (_req, res) => {
    res.json({ templates: await templates.list() });
  });

  router.get('/request-templates/:id', async (req, res) => {
    const found = await templates.get(req.params.id);
    if (!found) throw notFound('request template', req.params.id);
    res.json(found);
  });

  router.put('/request-templates/:id', async (req, res) => {
    const body = parseOr400(templateInput, req.body, 'request body');
    await checkTemplateHost(body);
    const replaced = await templates.replace(req.params.id, body).catch(badCredential);
    if (!replaced) throw notFound('request template', req.params.id);
    res.json(replaced);
  });

  router.delete('/request-templates/:id', async (req, res) => {
    if (!(await templates.delete(req.params.id))) throw notFound('request template', req.params.id);
    res.status(204).end();
  });

  return router;
}

/** A template naming a missing or non-https credential (also when it was deleted a moment ago: the foreign key). */
function badCredential(err: unknown): never {
  if (err instanceof TemplateCredentialError || (err as { code?: string }).code === '23503') {
    const message = err instanceof TemplateCredentialError ? err.message : 'the credential does not exist';
    throw new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: '/credential', message }]);
  }
  throw err;
}

/** A template took the credential between the check and the delete: the foreign key refuses. */
function inUse(id: string) {
  return (err: unknown): never => {
    if ((err as { code?: string }).code === '23503') throw new ApiError(409, 'credential_in_use', `credential "${id}" is used by a request template`);
    throw err;
  };
}
