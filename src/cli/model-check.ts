// One small, free request to the model API with the configured credential
// (count_tokens), so `doctor` and `start` can say whether the model will answer
// before a chat finds out the hard way.
import http from 'node:http';
import https from 'node:https';
import type { Config, Credential } from '../core/config/config.js';
import { authFix, credentialName, errorDetail } from '../core/gateway/model-problem.js';
import type { CheckResult } from '../kit/channel-setup.js';

const PROBE_BODY = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });

/** What came back: the status and the body as text. */
export interface ModelAnswer {
  status: number;
  ok: boolean;
  text: string;
}

/** One POST with node:http(s): a start-up check without fetch, whose client the host would keep for nothing. */
export type PostFn = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<ModelAnswer>;

export const post: PostFn = (url, headers, body, timeoutMs) =>
  new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const length = String(Buffer.byteLength(body));
    const req = client.request(url, { method: 'POST', headers: { ...headers, 'content-length': length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text = (text + d).slice(0, 64 * 1024)));
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
      timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });

/** One count_tokens call with `cred`; a network failure comes back as why it failed, in a few words. */
async function askModelApi(
  url: string,
  cred: Credential | null,
  postFn: PostFn,
  timeoutMs: number,
): Promise<{ res: ModelAnswer } | { why: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  if (cred?.kind === 'api-key') headers['x-api-key'] = cred.value;
  else if (cred) {
    headers['authorization'] = `Bearer ${cred.value}`;
    headers['anthropic-beta'] = 'oauth-2025-04-20';
  }
  try {
    return { res: await postFn(`${url}/v1/messages/count_tokens`, headers, PROBE_BODY, timeoutMs) };
  } catch (err) {
    const e = err as Error & { code?: string };
    return {
      why: e.name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (e.code ?? e.message),
    };
  }
}

/**
 * A credential just typed in, tried before it is saved: `refused` when the API says 401/403 (say so, ask again);
 * `unchecked` when the API could not tell (save it, with the warning).
 */
export async function checkCredential(
  url: string,
  cred: Credential,
  postFn: PostFn = post,
  timeoutMs = 8000,
): Promise<{ verdict: 'accepted' | 'refused' | 'unchecked'; detail: string }> {
  const got = await askModelApi(url, cred, postFn, timeoutMs);
  if ('why' in got)
    return { verdict: 'unchecked', detail: `could not check the key: ${url} did not answer (${got.why})` };
  const { status } = got.res;
  const detail = errorDetail(got.res.text);
  if (status === 401 || status === 403)
    return { verdict: 'refused', detail: `${url} refused it (HTTP ${status}${detail ? `: ${detail}` : ''})` };
  if (got.res.ok) return { verdict: 'accepted', detail: `${url} accepts it` };
  return { verdict: 'unchecked', detail: `could not check the key: ${url} answered HTTP ${status}` };
}

export async function probeModel(config: Config, postFn: PostFn = post, timeoutMs = 4000): Promise<CheckResult> {
  const url = config.anthropicBaseUrl;
  const cred = config.credential;
  const got = await askModelApi(url, cred, postFn, timeoutMs);
  if ('why' in got)
    return {
      name: 'Model API',
      level: 'fail',
      detail: `cannot reach ${url} (${got.why})`,
      fix: url.startsWith('https://api.anthropic.com')
        ? 'Check the internet connection (and any proxy or firewall).'
        : `Check that the server at ANTHROPIC_BASE_URL=${url} is running.`,
    };
  const { res } = got;
  const detail = errorDetail(res.text);
  if (!cred)
    return { name: 'Model API', level: 'ok', detail: `${url} answers (HTTP ${res.status}; no credential to try)` };
  const name = credentialName(cred.kind);
  if (res.status === 401 || res.status === 403)
    return {
      name: 'Model API',
      level: 'fail',
      detail: `${url} refused ${name} (HTTP ${res.status}${detail ? `: ${detail}` : ''})`,
      fix: `To fix it: ${authFix(cred.kind)}.`,
    };
  if (res.ok) return { name: 'Model API', level: 'ok', detail: `${url} answers and accepts ${name}` };
  if (res.status === 429 || res.status >= 500)
    return {
      name: 'Model API',
      level: 'warn',
      detail: `${url} is failing right now (HTTP ${res.status}${detail ? `: ${detail}` : ''})`,
      fix: 'NanoClaw retries by itself; if it lasts, check the status of the model API.',
    };
  // Some Anthropic-compatible servers have no count_tokens: reachable is all this can tell.
  return { name: 'Model API', level: 'ok', detail: `${url} answers (HTTP ${res.status})` };
}

/** For `nanoclaw start`: one line on whether the model answers. */
export async function reportModelCheck(
  config: Config,
  out: NodeJS.WritableStream,
  postFn: PostFn = post,
): Promise<void> {
  // Without a credential there is nothing to try; start already says what is missing.
  if (!config.credential)
    return void out.write('  ! Model API: not checked, there is no credential (run "nanoclaw auth claude")\n');
  const r = await probeModel(config, postFn);
  const mark = r.level === 'ok' ? '✓' : '!';
  out.write(`  ${mark} Model API: ${r.detail}${r.fix ? `. ${r.fix}` : ''}\n`);
}
