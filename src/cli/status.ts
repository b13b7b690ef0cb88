// `nanoclaw status [--json]`: one screen on whether the assistant is working.
// Exit code: 0 all well, 1 running but something needs attention, 3 not running
// (the LSB convention for "not running", so scripts can tell the two apart).
import type { Config } from '../core/config/config.js';
import type { ScheduledTask } from '../plugins/scheduler/store.js';
import type { StatusResponse } from '../core/api/types.js';
import type { TasksResponse } from '../plugins/scheduler/api.js';
import { clip } from '../core/gateway/model-problem.js';
import { apiClient, readBody, type ApiClient } from './api-client.js';
import { duration, flag, localTime, paint } from './term.js';

export const EXIT_NOT_RUNNING = 3;

/** Reaches the running host, or says in one sentence why not. */
export async function fetchStatus(
  config: Config,
): Promise<{ api: ApiClient; status: StatusResponse } | { error: string; running: boolean }> {
  let api: ApiClient;
  try {
    api = apiClient(config);
  } catch {
    return {
      running: false,
      error: `NanoClaw has never been started in ${config.home} (no data/api-token). Start it with "nanoclaw start", or set NANOCLAW_HOME to the right folder.`,
    };
  }
  let res: Response;
  try {
    res = await api.request('/api/status', { signal: AbortSignal.timeout(5000) });
  } catch {
    return {
      running: false,
      error: `NanoClaw is not running in ${config.home} (nothing answers at ${api.base}). Start it with "nanoclaw start", or keep it running with "nanoclaw service install".`,
    };
  }
  if (res.status === 401)
    return {
      running: true,
      error: `Something at ${api.base} refused this home's API token: is another NanoClaw using that port? Check NANOCLAW_HOME and NANOCLAW_HTTP_PORT.`,
    };
  if (!res.ok)
    return {
      running: true,
      error: `NanoClaw at ${api.base} answered ${res.status}; see ${config.home}/logs/nanoclaw.log.`,
    };
  return { api, status: await readBody<StatusResponse>(res) };
}

/** What needs attention, in words; empty when all is well. */
export function troubles(status: StatusResponse): string[] {
  const out = [...status.problems];
  if (!status.runtime && !out.some((p) => /runtime|bubblewrap|docker/i.test(p)))
    out.push('No sandbox runtime: run "nanoclaw doctor" to see why.');
  if (!status.credential && !out.some((p) => /credential/i.test(p)))
    out.push('No Anthropic credential: run "nanoclaw auth claude", then restart.');
  if (status.modelError) out.push(`Model API: ${status.modelError.message}. To fix it: ${status.modelError.fix}.`);
  // The failover plugin's field: a fallback answers because the primary did not.
  const fo = status.failover;
  if (fo && !fo.onPrimary)
    out.push(
      `Model calls go to the fallback ${fo.active} since ${localTime(fo.since)}: ${fo.why}. NanoClaw goes back to the primary once it answers again.`,
    );
  for (const c of status.channels) {
    if (c.connected) continue;
    if (c.linking?.qr || c.linking?.pairingCode)
      out.push(
        `${c.name} is waiting to be linked: open the dashboard's Channels page, or run "nanoclaw auth ${c.name}".`,
      );
    else out.push(`${c.name} is disconnected${c.detail ? `: ${c.detail}` : ''}.`);
  }
  // The email plugin's field (status() part): an account that does not log in, with its fix.
  const email = (
    status as {
      email?: { address?: string; problem?: string; login?: { state: string; problem?: string; fix?: string } };
    }
  ).email;
  if (email?.login?.state === 'failing')
    out.push(`Email (${email.address}) does not log in: ${email.login.problem} ${email.login.fix}`);
  else if (email?.problem) out.push(email.problem);
  return out;
}

export async function statusCommand(args: string[], config: Config): Promise<number> {
  const out = process.stdout;
  const p = paint(out);
  const got = await fetchStatus(config);
  if ('error' in got) {
    if (flag(args, '--json')) out.write(JSON.stringify({ running: got.running, error: got.error }) + '\n');
    else out.write(`${p.bad('●')} ${got.error}\n`);
    return got.running ? 1 : EXIT_NOT_RUNNING;
  }
  const { api, status } = got;
  const issues = troubles(status);
  let tasks: ScheduledTask[] = [];
  try {
    const res = await api.request('/api/tasks', { signal: AbortSignal.timeout(5000) });
    if (res.ok) tasks = (await readBody<TasksResponse>(res)).tasks;
  } catch {
    /* tasks are optional on this screen */
  }
  const next = tasks
    .filter((t) => t.status === 'active' && t.nextRun)
    .sort((a, b) => String(a.nextRun).localeCompare(String(b.nextRun)))
    .slice(0, 3);

  if (flag(args, '--json')) {
    out.write(
      JSON.stringify({ running: true, ok: issues.length === 0, issues, status, nextTasks: next }, null, 2) + '\n',
    );
    return issues.length ? 1 : 0;
  }

  const now = Date.now();
  const row = (label: string, value: string) => out.write(`  ${p.dim(label.padEnd(11))} ${value}\n`);
  out.write(
    `${issues.length ? p.warn('●') : p.ok('●')} ${p.bold(`${status.assistantName} is running`)} ${p.dim(`(pid ${status.pid}, up ${duration(now - Date.parse(status.startedAt))}, ${api.base})`)}\n`,
  );
  row('Sandbox', status.runtime ? p.ok(status.runtime) : p.bad('none'));
  row('Credential', status.credential ? p.ok('present') : p.bad('missing'));
  if (status.failover)
    row(
      'Model API',
      status.failover.onPrimary
        ? `${p.ok('primary')} (${status.failover.fallbacks.length} fallback(s) ready)`
        : `${p.warn('fallback')} ${status.failover.active}`,
    );
  row(
    'Channels',
    status.channels
      .map(
        (c) =>
          `${c.name} ${c.connected ? p.ok('connected') : c.linking ? p.warn('waiting to be linked') : p.bad('disconnected')}`,
      )
      .join(', '),
  );
  const email = (status as { email?: { configured: boolean; address?: string; login?: { state: string } } }).email;
  if (email?.configured)
    row(
      'Email',
      `${email.address} ${email.login?.state === 'ok' ? p.ok('logs in') : email.login?.state === 'failing' ? p.bad('does not log in') : p.dim('checking')}`,
    );
  row('Groups', `${status.groups} registered`);
  const working = status.agents.filter((a) => a.working).length;
  row('Agents', `${working} working, ${status.agents.length - working} idle, ${status.queue.waiting} waiting`);
  for (const a of status.agents)
    out.write(
      `  ${' '.repeat(11)} ${a.name} ${p.dim(`(${a.folder})`)} ${a.working ? 'working' : 'idle'}, up ${duration(now - Date.parse(a.startedAt))}${a.tool ? `, using ${a.tool}` : ''}${status.teams?.[a.jid]?.length ? `, with ${status.teams[a.jid].map((s) => s.type).join(', ')}` : ''}\n`,
    );
  next.forEach((t, i) => {
    const prompt = t.prompt.replace(/\s+/g, ' ');
    const text = `${localTime(t.nextRun)}  ${t.groupFolder}  ${prompt.length > 50 ? prompt.slice(0, 49) + '…' : prompt}`;
    if (i === 0) row('Next tasks', text);
    else out.write(`  ${' '.repeat(11)} ${text}\n`);
  });
  if (status.lastError) {
    const msg = status.lastError.message.replace(/\s+/g, ' ');
    row('Last error', `${localTime(status.lastError.at)} ${clip(msg, 300)}`);
  }
  if (issues.length) {
    out.write(`\n${p.warn('Needs attention:')}\n`);
    for (const i of issues) out.write(`  ${p.warn('!')} ${i}\n`);
  }
  out.write(p.dim(`\nDashboard: ${api.base}/  (nanoclaw dashboard prints a sign-in link)\n`));
  return issues.length ? 1 : 0;
}
