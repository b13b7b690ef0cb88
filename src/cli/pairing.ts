// `nanoclaw pairing list|approve <code>`: strangers waiting to talk to the assistant.
import type { Config } from '../core/config/config.js';
import type { GroupResponse } from '../core/api/types.js';
import type { PairingResponse } from '../plugins/pairing/api.js';
import { apiClient, readBody, refusal } from './api-client.js';

export async function pairingCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const [sub, code] = args;
  if (!sub || sub === 'list') {
    const { pending } = await readBody<PairingResponse>(await api.request('/api/pairing'));
    if (!pending.length) process.stdout.write('Nobody is waiting.\n');
    for (const p of pending)
      process.stdout.write(`${p.code}  ${p.senderName} (${p.chatJid}, ${p.channel}) since ${p.createdAt}\n`);
    return 0;
  }
  if (sub === 'approve' && code) {
    const res = await api.request(`/api/pairing/${encodeURIComponent(code)}/approve`, { method: 'POST' });
    if (!res.ok) {
      process.stderr.write(`Not approved: ${await refusal(res)}\n`);
      return 1;
    }
    const body = await readBody<GroupResponse>(res);
    process.stdout.write(`Approved: ${body.group.name} (${body.group.jid}) in groups/${body.group.folder}\n`);
    return 0;
  }
  process.stderr.write('Usage: nanoclaw pairing list | nanoclaw pairing approve <code>\n');
  return 2;
}
