// `nanoclaw status`: one screen on whether the assistant is working.
import type { Config } from '../config.js';
import type { HostStatus } from '../host.js';
import { apiClient } from './api-client.js';

export async function statusCommand(_args: string[], config: Config): Promise<number> {
  let status: HostStatus;
  try {
    const api = apiClient(config);
    const res = await api.request('/api/status');
    if (!res.ok) throw new Error(`the API answered ${res.status}`);
    status = (await res.json()) as HostStatus;
  } catch (err) {
    process.stdout.write(`NanoClaw is not running in ${config.home}: ${(err as Error).message}\n`);
    return 1;
  }
  const out = process.stdout;
  out.write(`NanoClaw is running (pid ${status.pid}, since ${status.startedAt})\n`);
  out.write(`  Runtime: ${status.runtime ?? 'none'}\n`);
  out.write(`  Channels: ${status.channels.map((c) => `${c.name} ${c.connected ? 'connected' : 'disconnected'}`).join(', ')}\n`);
  out.write(`  Groups: ${status.groups}; agents live: ${status.agents.length}; waiting: ${status.queue.waiting}\n`);
  for (const a of status.agents) out.write(`    ${a.name} (${a.folder}) since ${a.startedAt}${a.tool ? `, using ${a.tool}` : ''}\n`);
  if (status.lastError) out.write(`  Last error (${status.lastError.at}): ${status.lastError.message}\n`);
  for (const p of status.problems) out.write(`  ! ${p}\n`);
  return status.problems.length || !status.runtime ? 1 : 0;
}
