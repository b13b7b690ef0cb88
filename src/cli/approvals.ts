// `nanoclaw approvals [list] | yes|no|always <id or code>`: what waits for the owner,
// and the audit trail of past requests (who asked, what, when, the answer, who gave it).
import type { Config } from '../core/config/config.js';
import type { ApprovalRequest } from '../plugins/approvals/store.js';
import { apiClient, readBody, refusal } from './api-client.js';

/** One request on one line; the detail whole, on its own indented lines, so nothing is shown cut. */
export function formatRequest(r: ApprovalRequest): string {
  const answer =
    r.status === 'pending'
      ? `pending until ${r.expiresAt}`
      : `${r.status}${r.note === 'always' ? ' (always)' : ''} by ${r.decidedBy} at ${r.decidedAt}`;
  const detail = r.detail.split('\n').map((l) => `    ${l}`);
  return [
    `${r.id}  ${r.createdAt}  ${r.groupFolder}  ${r.kind}  code ${r.code}  ${answer}`,
    ...detail,
    `    sha256 ${r.detailHash}${r.reason ? `; why: ${r.reason}` : ''}`,
  ].join('\n');
}

export async function approvalsCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const [sub, id] = args;
  if (!sub || sub === 'list') {
    const { pending, history } = await readBody<{ pending: ApprovalRequest[]; history: ApprovalRequest[] }>(
      await api.request('/api/approvals'),
    );
    process.stdout.write(
      pending.length ? `Waiting for you (${pending.length}):\n` : 'Nothing waits for your approval.\n',
    );
    for (const r of pending) process.stdout.write(formatRequest(r) + '\n');
    const past = history.filter((r) => r.status !== 'pending');
    if (past.length) process.stdout.write(`\nDecided (newest first):\n${past.map(formatRequest).join('\n')}\n`);
    return 0;
  }
  if (['yes', 'no', 'always'].includes(sub) && id) {
    const res = await api.request(`/api/approvals/${encodeURIComponent(id)}/${sub}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'cli' }),
    });
    if (!res.ok) {
      process.stderr.write(`Not done: ${await refusal(res)}\n`);
      return 1;
    }
    process.stdout.write(`${(await readBody<{ text: string }>(res)).text}\n`);
    return 0;
  }
  process.stderr.write('Usage: nanoclaw approvals [list] | nanoclaw approvals yes|no|always <request id or code>\n');
  return 2;
}
