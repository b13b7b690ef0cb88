// One small, free request to the model API with the configured credential
// (count_tokens), so `doctor` and `start` can say whether the model will answer
// before a chat finds out the hard way.
import type { Config } from '../core/config/config.js';
import { authFix, credentialName, errorDetail } from '../core/gateway/model-problem.js';
import type { CheckResult } from '../core/channels/plugin.js';

const PROBE_BODY = JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });

export async function probeModel(
  config: Config,
  fetchFn: typeof fetch = fetch,
  timeoutMs = 4000,
): Promise<CheckResult> {
  const url = config.anthropicBaseUrl;
  const cred = config.credential;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
  if (cred?.kind === 'api-key') headers['x-api-key'] = cred.value;
  else if (cred) {
    headers['authorization'] = `Bearer ${cred.value}`;
    headers['anthropic-beta'] = 'oauth-2025-04-20';
  }
  let res: Response;
  try {
    res = await fetchFn(`${url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers,
      body: PROBE_BODY,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    const e = err as Error;
    const cause = e.cause as { code?: string; message?: string } | undefined;
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : (cause?.code ?? cause?.message ?? e.message);
    return {
      name: 'Model API',
      level: 'fail',
      detail: `cannot reach ${url} (${why})`,
      fix: url.startsWith('https://api.anthropic.com')
        ? 'Check the internet connection (and any proxy or firewall).'
        : `Check that the server at ANTHROPIC_BASE_URL=${url} is running.`,
    };
  }
  const detail = errorDetail(await res.text().catch(() => ''));
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
  fetchFn: typeof fetch = fetch,
): Promise<void> {
  // Without a credential there is nothing to try; start already says what is missing.
  if (!config.credential)
    return void out.write('  ! Model API: not checked, there is no credential (run "nanoclaw auth claude")\n');
  const r = await probeModel(config, fetchFn);
  const mark = r.level === 'ok' ? '✓' : '!';
  out.write(`  ${mark} Model API: ${r.detail}${r.fix ? `. ${r.fix}` : ''}\n`);
}
