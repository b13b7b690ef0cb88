// `nanoclaw forget "<phrase>" [--chat <jid|folder>] [--sender <id>] [--since D] [--until D] [--include-audit] [--yes]`:
// preview what matches, grouped by place, then erase it on confirmation and
// print the receipt. The audit trail (approval records, log lines recording
// security decisions) is kept and listed unless --include-audit says otherwise.
// `nanoclaw forget --opt-outs` lists who asked not to be remembered;
// `--opt-in <chat> <sender>` reverses one. `--receipts` lists past receipts.
import type { Config } from '../core/config/config.js';
import type { ForgetReceipt, OptOut, ReceiptPlace } from '../plugins/forget/store.js';
import { apiClient, readBody, refusal } from './api-client.js';
import { flag, option, positional, prompter } from './term.js';

interface PreviewBody {
  preview: {
    id: string;
    total: number;
    expiresAt: string;
    places: { place: string; count: number; excerpts: string[] }[];
    kept?: ReceiptPlace[];
  };
}

export function receiptText(r: ForgetReceipt): string {
  const lines = [`Receipt ${r.id} (${r.createdAt}, ${r.scope}; ${r.filter})`];
  for (const p of r.places) if (p.removed) lines.push(`  ${p.place.padEnd(12)} ${p.detail}`);
  const kept = r.places.filter((p) => p.kept);
  if (kept.length) lines.push(`  Kept on purpose (the audit trail; erase it with --include-audit):`);
  for (const p of kept) lines.push(`  ${p.place.padEnd(12)} ${p.detail}`);
  // Never "no match remains" while the kept audit trail holds one.
  const clean = kept.length ? 'nothing remains besides the audit trail kept on purpose.' : 'no match remains.';
  lines.push(r.verified ? `  Final search: ${clean}` : `  Final search still found: ${r.remaining.join('; ')}`);
  return lines.join('\n');
}

export async function forgetCommand(args: string[], config: Config): Promise<number> {
  const api = apiClient(config);
  const out = process.stdout;
  const fail = async (res: Response, what: string) => {
    process.stderr.write(`${what}: ${await refusal(res)}\n`);
    return 1;
  };

  if (flag(args, '--opt-outs')) {
    const res = await api.request('/api/forget/opt-outs');
    if (!res.ok) return fail(res, 'Could not list opt-outs');
    const { optOuts } = await readBody<{ optOuts: OptOut[] }>(res);
    if (!optOuts.length) out.write('Nobody has opted out.\n');
    for (const o of optOuts) out.write(`${o.chatJid}  ${o.sender}  ${o.senderName}  since ${o.createdAt}\n`);
    return 0;
  }
  const optIn = args.indexOf('--opt-in');
  if (optIn >= 0) {
    const [chatJid, sender] = args.slice(optIn + 1);
    if (!chatJid || !sender) {
      process.stderr.write('Usage: nanoclaw forget --opt-in <chat jid> <sender id> (see nanoclaw forget --opt-outs)\n');
      return 2;
    }
    const res = await api.request('/api/forget/opt-outs', { method: 'DELETE', json: { chatJid, sender } });
    if (!res.ok) return fail(res, 'Could not reverse the opt-out');
    out.write(`${sender}'s messages in ${chatJid} are kept again.\n`);
    return 0;
  }
  if (flag(args, '--receipts')) {
    const res = await api.request('/api/forget/receipts');
    if (!res.ok) return fail(res, 'Could not list receipts');
    const { receipts } = await readBody<{ receipts: ForgetReceipt[] }>(res);
    if (!receipts.length) out.write('Nothing has been forgotten yet.\n');
    for (const r of receipts) out.write(`${receiptText(r)}\n`);
    return 0;
  }

  const valued = ['--chat', '--sender', '--since', '--until'];
  const [phrase] = positional(args, valued);
  const body = {
    phrase,
    chat: option(args, '--chat'),
    sender: option(args, '--sender'),
    since: option(args, '--since'),
    until: option(args, '--until'),
    // Only here, from the owner's terminal, and only when asked for: approval records and audit log lines.
    includeAudit: flag(args, '--include-audit'),
  };
  if (!phrase && !body.sender && !body.since && !body.until) {
    process.stderr.write(
      'Usage: nanoclaw forget "<phrase>" [--chat <jid|folder>] [--sender <id>] [--since <date>] [--until <date>] [--include-audit] [--yes]\n       nanoclaw forget --opt-outs | --opt-in <chat> <sender> | --receipts\n',
    );
    return 2;
  }
  const res = await api.request('/api/forget/preview', { method: 'POST', json: body });
  if (!res.ok) return fail(res, 'Could not search');
  const { preview } = await readBody<PreviewBody>(res);
  const kept = preview.kept ?? [];
  const keptNote = () => {
    if (!kept.length) return;
    out.write('Kept on purpose (the audit trail; add --include-audit to erase it too):\n');
    for (const k of kept) out.write(`  ${k.place.padEnd(12)} ${k.detail}\n`);
  };
  if (!preview.total) {
    out.write('Nothing matches: there is nothing to forget.\n');
    keptNote();
    return 0;
  }
  out.write(`Found ${preview.total} item${preview.total === 1 ? '' : 's'}:\n`);
  for (const p of preview.places) {
    out.write(`  ${p.place.padEnd(12)} ${p.count}\n`);
    for (const e of p.excerpts) out.write(`      ${e}\n`);
  }
  keptNote();
  if (!flag(args, '--yes', '-y')) {
    const ask = prompter();
    const answer = await ask.ask('Erase all of this? [y/N] ');
    ask.close();
    if (!/^y(es)?$/i.test(answer)) {
      out.write('Nothing was erased.\n');
      return 1;
    }
  }
  const done = await api.request('/api/forget/confirm', { method: 'POST', json: { previewId: preview.id } });
  if (!done.ok) return fail(done, 'Could not erase');
  const { receipt } = await readBody<{ receipt: ForgetReceipt }>(done);
  out.write(`${receiptText(receipt)}\n`);
  return receipt.verified ? 0 : 1;
}
