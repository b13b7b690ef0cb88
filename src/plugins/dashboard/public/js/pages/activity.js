// Activity: what is running right now (agents per group, how long, which tool),
// anything wrong with the setup, and the recent errors with the explanation
// each chat was given.
import { api } from '../api.js';
import { every, fmtDuration, fmtTime, h, notice, put, withIcons } from '../dom.js';

export function render(root, ctx) {
  const msg = h('div');
  const summary = h('div.stats', { id: 'summary' });
  const problems = h('div', { id: 'problems' });
  const agents = h('div', { id: 'agents' });
  const errors = h('div', { id: 'errors' });
  const receipts = h('div', { id: 'receipts' });
  let status = null;

  put(
    root,
    msg,
    summary,
    problems,
    h('h2', 'Agents working now'),
    agents,
    h('h2', 'Recent errors'),
    errors,
    h('h2', 'Forgotten'),
    receipts,
  );

  function draw() {
    if (!status) return;
    const model = status.modelError;
    // The agent-team members at work in an agent's sandbox.
    const team = (a) => status.teams?.[a.jid];
    const up = Date.now() - new Date(status.startedAt).getTime();
    put(
      summary,
      stat('Running for', fmtDuration(up)),
      stat('Sandbox', status.runtime || 'none', !status.runtime),
      stat(
        'Agents',
        `${status.agents.filter((a) => a.working).length} working · ${status.agents.filter((a) => !a.working).length} idle · ${status.queue.waiting} waiting`,
      ),
      stat('Groups', String(status.groups)),
      stat(
        'Channels',
        `${status.channels.filter((c) => c.connected).length} of ${status.channels.length} connected`,
        status.channels.some((c) => !c.connected),
      ),
    );
    // The model API's current problem stays here until a model call succeeds.
    const listed = model
      ? [
          h('li.model-error', `Model API: ${model.message}. To fix it: ${model.fix}.`),
          ...status.problems.map((p) => h('li', p)),
        ]
      : status.problems.map((p) => h('li', p));
    put(problems, listed.length ? h('ul.problems', listed) : null);
    put(
      agents,
      status.agents.length
        ? h(
            'div.cards',
            status.agents.map((a) =>
              h(
                'article.card.agent',
                { dataset: { jid: a.jid } },
                h('div.card-head', h('span.dot.on'), h('strong', a.name), h('span.muted.small', a.folder)),
                h(
                  'dl.facts',
                  h('dt', 'Running for'),
                  h('dd', fmtDuration(Date.now() - new Date(a.startedAt).getTime())),
                  h('dt', 'Started'),
                  h('dd', fmtTime(a.startedAt)),
                  h('dt', 'Now'),
                  h(
                    'dd',
                    a.tool
                      ? `using ${a.tool}`
                      : !a.working
                        ? 'idle, waiting for a follow-up'
                        : model
                          ? 'waiting for the model API'
                          : 'thinking',
                  ),
                  team(a)?.length ? h('dt', 'Team') : null,
                  team(a)?.length
                    ? h(
                        'dd.subagents',
                        team(a)
                          .map((s) => s.type)
                          .join(', '),
                      )
                    : null,
                  h('dt', 'Sandbox'),
                  h('dd', status.runtime || '—'),
                ),
              ),
            ),
          )
        : h('p.muted', 'No agent is running. They start when a message or task arrives and stop after a quiet spell.'),
    );
  }

  async function loadErrors() {
    try {
      const { errors: list } = await api('/api/errors?limit=30');
      put(
        errors,
        list.length
          ? h(
              'ol.errors',
              list.map((e) =>
                h(
                  'li.card.error',
                  h(
                    'div.card-head',
                    h('time', { datetime: e.at }, fmtTime(e.at)),
                    h('strong', e.groupFolder || 'host'),
                    e.chatJid ? h('code.small', e.chatJid) : null,
                  ),
                  h('p', withIcons(e.message)),
                ),
              ),
            )
          : h('p.muted', 'No errors.'),
      );
    } catch (err) {
      notice(msg, err.message, 'error');
    }
  }

  // Receipts of what was erased: places and counts, never the content.
  async function loadReceipts() {
    try {
      const { receipts: list } = await api('/api/forget/receipts');
      put(
        receipts,
        list.length
          ? h(
              'ol.errors',
              list.map((r) =>
                h(
                  'li.card.receipt',
                  { dataset: { id: r.id } },
                  h(
                    'div.card-head',
                    h('time', { datetime: r.createdAt }, fmtTime(r.createdAt)),
                    h('strong', r.scope),
                    h('span.muted.small', r.filter),
                  ),
                  h(
                    'ul',
                    r.places.filter((p) => p.removed).map((p) => h('li', `${p.place}: ${p.detail}`)),
                  ),
                  r.places.some((p) => p.kept)
                    ? h(
                        'ul.muted',
                        r.places.filter((p) => p.kept).map((p) => h('li', `Kept — ${p.place}: ${p.detail}`)),
                      )
                    : null,
                  h(
                    'p.small',
                    !r.verified
                      ? `Still found: ${r.remaining.join('; ')}`
                      : r.places.some((p) => p.kept)
                        ? 'Final search: nothing remains besides the audit trail kept on purpose.'
                        : 'Final search: no match remains.',
                  ),
                ),
              ),
            )
          : h('p.muted', 'Nothing has been forgotten. Ask the assistant to forget something, or run nanoclaw forget.'),
      );
    } catch (err) {
      notice(msg, err.message, 'error');
    }
  }

  const stopStatus = every(2000, async () => {
    try {
      status = await ctx.refreshStatus();
      notice(msg, '');
    } catch (err) {
      notice(msg, err.message, 'error');
    }
    draw();
  });
  const stopErrors = every(10_000, loadErrors);
  const stopReceipts = every(10_000, loadReceipts);
  // Durations tick between polls.
  const tick = setInterval(draw, 1000);
  return () => {
    stopStatus();
    stopErrors();
    stopReceipts();
    clearInterval(tick);
  };
}

function stat(label, value, bad = false) {
  return h(`div.stat${bad ? '.bad' : ''}`, h('span.label', label), h('span.value', value));
}
