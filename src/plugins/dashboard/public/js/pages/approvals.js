// Approvals: actions the agents wait to do until you answer, each shown whole
// (command, URL or path, with its sha256), with Approve / Always / Deny; and
// the audit trail of past requests: who asked, what, when, the answer, who gave it.
import { api } from '../api.js';
import { every, fmtTime, h, notice, put } from '../dom.js';

export function render(root, ctx) {
  const msg = h('div');
  const pending = h('div', { id: 'approvals-pending' });
  const history = h('div', { id: 'approvals-history' });
  put(root, msg, h('h2', 'Waiting for you'), pending, h('h2', 'Decided'), history);

  async function answer(r, verb) {
    try {
      const res = await api(`/api/approvals/${encodeURIComponent(r.id)}/${verb}`, {
        method: 'POST',
        json: { by: 'dashboard' },
      });
      notice(msg, res.text);
    } catch (err) {
      notice(msg, err.message, 'error');
    }
    await load();
  }

  function card(r) {
    return h(
      'article.approval.card',
      { dataset: { id: r.id } },
      h(
        'p',
        `${r.groupFolder} · ${r.kind} · code ${r.code} · asked ${fmtTime(r.createdAt)} · until ${fmtTime(r.expiresAt)}`,
      ),
      // The whole action, never cut: this is exactly what Approve allows.
      h('pre.detail', r.detail),
      h('p.muted.hash', `sha256 ${r.detailHash}`),
      h('p', `Why: ${r.reason || '(the agent gave no reason)'}`),
      h(
        'div.actions',
        h('button.primary', { type: 'button', onclick: () => answer(r, 'yes') }, 'Approve once'),
        h('button', { type: 'button', onclick: () => answer(r, 'always') }, 'Always allow'),
        h('button.danger', { type: 'button', onclick: () => answer(r, 'no') }, 'Deny'),
      ),
    );
  }

  function row(r) {
    const answer = `${r.status}${r.note === 'always' ? ' (always)' : ''}`;
    return h(
      'tr',
      h('td', fmtTime(r.createdAt)),
      h('td', r.groupFolder),
      h('td', r.kind),
      h(
        'td',
        h(
          'code',
          r.detail.length > 200 ? `${r.detail.length} characters, sha256 ${r.detailHash.slice(0, 16)}` : r.detail,
        ),
      ),
      h('td', answer),
      h('td', r.decidedBy ? `${r.decidedBy}, ${fmtTime(r.decidedAt)}` : ''),
    );
  }

  async function load() {
    const body = await api('/api/approvals');
    put(pending, body.pending.length ? body.pending.map(card) : h('p.muted', 'Nothing waits for your approval.'));
    const past = body.history.filter((r) => r.status !== 'pending');
    put(
      history,
      past.length
        ? h(
            'div.table-scroll',
            h(
              'table',
              h(
                'thead',
                h(
                  'tr',
                  ['When', 'Group', 'Kind', 'What', 'Answer', 'By'].map((t) => h('th', t)),
                ),
              ),
              h('tbody', past.map(row)),
            ),
          )
        : h('p.muted', 'No decisions yet.'),
    );
  }

  // A new request reaches the main chat as a message: look again then, and now and then for timeouts.
  const off = ctx.onMessage(() => load().catch(() => {}));
  const stop = every(15_000, load);
  return () => {
    off();
    stop();
  };
}
