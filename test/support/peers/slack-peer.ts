/**
 * A loopback Slack Web API: `chat.postMessage` (POST /api/chat.postMessage)
 * with a bot token as Bearer, form-encoded arguments (blocks as a JSON
 * string, as the WebClient sends them), and Slack's answers: HTTP 200 with
 * `{ok: true, channel, ts, message}`, or HTTP 200 with `{ok: false, error}`
 * for a bad token, an unknown channel or a message without content.
 */
import { bearerToken, HttpPeer, type PeerResponse, type RecordedRequest } from './http-peer';

export interface SlackPost {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
}

export interface SlackWorkspace {
  token: string;
  /** Channel id -> name. */
  channels: Record<string, string>;
}

export async function startSlackPeer(workspace: SlackWorkspace): Promise<HttpPeer & { posts: SlackPost[] }> {
  const posts: SlackPost[] = [];
  let clock = 1_712_345_678;
  const peer = await HttpPeer.start((request) => handle(request, workspace, posts, () => `${clock++}.000100`));
  return Object.assign(peer, { posts });
}

function handle(request: RecordedRequest, workspace: SlackWorkspace, posts: SlackPost[], nextTs: () => string): PeerResponse {
  if (request.method !== 'POST' || request.path !== '/api/chat.postMessage') return { status: 404, body: { ok: false, error: 'unknown_method' } };
  if (!request.headers.authorization) return { status: 200, body: { ok: false, error: 'not_authed' } };
  if (bearerToken(request.headers) !== workspace.token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
  const form = (request.body ?? {}) as Record<string, string>;
  const wanted = (form.channel ?? '').replace(/^#/, '');
  const channel = Object.entries(workspace.channels).find(([id, name]) => id === wanted || name === wanted)?.[0];
  if (!channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
  let blocks: unknown[] | undefined;
  if (form.blocks !== undefined) {
    try {
      blocks = JSON.parse(form.blocks) as unknown[];
    } catch {
      return { status: 200, body: { ok: false, error: 'invalid_blocks_format' } };
    }
  }
  if (!form.text && !blocks) return { status: 200, body: { ok: false, error: 'no_text' } };
  const ts = nextTs();
  posts.push({ channel, ts, text: form.text, blocks, threadTs: form.thread_ts });
  return {
    status: 200,
    body: {
      ok: true,
      channel,
      ts,
      message: { type: 'message', subtype: 'bot_message', text: form.text ?? '', ts, ...(blocks ? { blocks } : {}), ...(form.thread_ts ? { thread_ts: form.thread_ts } : {}) },
    },
  };
}
