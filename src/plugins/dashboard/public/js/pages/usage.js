// Usage: tokens and estimated cost per day, per group, per model and per task, and the
// budgets that cap them. Numbers come from the gateway's metering of every
// model response.
import { api } from '../api.js';
import { bars, columns } from '../charts.js';
import { fmtTokens, fmtUsd, h, notice, put } from '../dom.js';

const TOKEN_SERIES = [
  { key: 'inputTokens', label: 'input', cls: 's1' },
  { key: 'cacheWriteTokens', label: 'cache write', cls: 's2' },
  { key: 'cacheReadTokens', label: 'cache read', cls: 's3' },
  { key: 'outputTokens', label: 'output', cls: 's4' },
];

export function render(root) {
  const msg = h('div');
  const body = h('div', { id: 'usage' });
  put(root, msg, body);

  async function load() {
    let usage;
    try {
      usage = await api('/api/usage');
    } catch (err) {
      return notice(
        msg,
        err.status === 404 ? 'Usage figures are not available in this version of NanoClaw.' : err.message,
        err.status === 404 ? 'ok' : 'error',
      );
    }
    let tasks = [];
    try {
      ({ tasks } = await api('/api/tasks'));
    } catch {
      /* tasks are optional here */
    }
    // A budget is per run: show it against what the last run used.
    await Promise.all(
      tasks
        .filter((t) => t.budgetTokens)
        .map(async (t) => {
          try {
            const { runs } = await api(`/api/tasks/${encodeURIComponent(t.id)}`);
            const last = runs.find((r) => r.status !== 'running');
            if (last) t.lastRunTokens = (last.inputTokens || 0) + (last.outputTokens || 0);
          } catch {
            /* shown without the last run */
          }
        }),
    );
    notice(msg, '');
    draw(usage, tasks);
  }

  function draw(usage, tasks) {
    const days = (usage.byDay || [])
      .map((d) => ({ ...d, ...norm(d) }))
      .sort((a, b) => String(a.day).localeCompare(String(b.day)));
    const today = localDay(new Date());
    const sum = (rows, f) => rows.reduce((n, r) => n + f(r), 0);
    const totalTokens = (r) => r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheWriteTokens;
    const todayRow = days.find((d) => String(d.day).slice(0, 10) === today);
    const last30 = days.filter((d) => String(d.day) >= localDay(new Date(Date.now() - 29 * 86400_000)));
    const timeline = fillDays(last30, today);

    const groups = (usage.byGroup || []).map((g) => ({ label: g.groupFolder || '?', ...norm(g) }));
    const models = (usage.byModel || []).map((m) => ({ label: m.model || '?', ...norm(m) }));
    const taskNames = new Map(tasks.map((t) => [t.id, t]));
    const byTask = (usage.byTask || []).map((t) => {
      const id = t.taskId || '?';
      const task = taskNames.get(id);
      return {
        id,
        label: task ? `${task.prompt.slice(0, 40)}${task.prompt.length > 40 ? '…' : ''}` : id,
        task,
        ...norm(t),
      };
    });
    const hasCost = days.some((d) => d.costUsd > 0) || groups.some((g) => g.costUsd > 0);

    put(
      body,
      h(
        'div.stats',
        stat(
          'Today',
          todayRow ? `${fmtTokens(totalTokens(todayRow))} tokens` : '0 tokens',
          todayRow ? fmtUsd(todayRow.costUsd) : fmtUsd(0),
        ),
        stat('Last 30 days', `${fmtTokens(sum(last30, totalTokens))} tokens`, fmtUsd(sum(last30, (r) => r.costUsd))),
        stat('Output', `${fmtTokens(sum(last30, (r) => r.outputTokens))} tokens`, 'last 30 days'),
      ),
      h('h2', 'Tokens per day'),
      days.length
        ? columns(
            timeline.map((d) => ({ label: d.day.slice(5, 10), values: d })),
            TOKEN_SERIES,
            { format: fmtTokens, title: 'Tokens per day' },
          )
        : h('p.muted', 'No model calls yet. Usage shows up here after the first answer.'),
      hasCost
        ? [
            h('h2', 'Estimated cost per day'),
            columns(
              timeline.map((d) => ({ label: d.day.slice(5, 10), values: { costUsd: d.costUsd } })),
              [{ key: 'costUsd', label: 'USD', cls: 's1' }],
              { format: usdAxis, title: 'Cost per day' },
            ),
          ]
        : null,
      h('h2', 'Per group'),
      groups.length
        ? bars(
            groups
              .sort((a, b) => totalTokens(b) - totalTokens(a))
              .map((g) => ({
                label: g.label,
                value: hasCost ? g.costUsd : totalTokens(g),
                note: hasCost ? `${fmtTokens(totalTokens(g))} tokens` : '',
              })),
            { format: hasCost ? fmtUsd : fmtTokens },
          )
        : h('p.muted', 'Nothing yet.'),
      h('h2', 'Per model'),
      models.length
        ? h(
            'div.table-scroll',
            h(
              'table.per-model',
              h(
                'thead',
                h('tr', h('th', 'Model'), h('th', 'Input'), h('th', 'Output'), h('th', 'Cache'), h('th', 'Est. cost')),
              ),
              h(
                'tbody',
                models.map((m) =>
                  h(
                    'tr',
                    { dataset: { model: m.label } },
                    h('td', h('code', m.label)),
                    h('td', fmtTokens(m.inputTokens)),
                    h('td', fmtTokens(m.outputTokens)),
                    h('td', fmtTokens(m.cacheReadTokens + m.cacheWriteTokens)),
                    h('td', fmtUsd(m.costUsd)),
                  ),
                ),
              ),
            ),
          )
        : h('p.muted', 'Nothing yet.'),
      h('h2', 'Per scheduled task'),
      byTask.length
        ? bars(
            byTask
              .sort((a, b) => totalTokens(b) - totalTokens(a))
              .map((t) => ({ label: t.label, value: totalTokens(t), note: hasCost ? fmtUsd(t.costUsd) : '' })),
            { format: fmtTokens },
          )
        : h('p.muted', 'No task has run yet.'),
      budgets(tasks),
      h(
        'p.small.muted',
        'Cost is an estimate at list prices per model; with a Claude subscription (OAuth token) nothing is billed per token.',
      ),
    );
  }

  load();
  const timer = setInterval(load, 30_000);
  return () => clearInterval(timer);
}

/** A budget is a task's token limit per run (the usage API has no other kind). */
function budgets(tasks) {
  const items = [];
  for (const t of tasks) {
    const limit = Number(t.budgetTokens) || 0;
    if (!limit) continue;
    const used = Number(t.lastRunTokens) || 0;
    items.push({
      label: t.prompt.slice(0, 40),
      value: used,
      limit,
      note:
        t.lastRunTokens === undefined
          ? `budget ${fmtTokens(limit)} tokens per run; not run yet`
          : `last run used ${fmtTokens(used)} of ${fmtTokens(limit)} tokens${t.status === 'paused' ? ' · paused' : ''}`,
    });
  }
  return [
    h('h2', 'Budgets'),
    items.length
      ? bars(items, { format: fmtTokens })
      : h(
          'p.muted',
          'No budgets set. A scheduled task can carry a token budget per run; a run over it is stopped and the task paused.',
        ),
  ];
}

function localDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** One entry per calendar day (at least two weeks), zero where nothing ran, so gaps show as gaps. */
function fillDays(rows, today) {
  const byDay = new Map(rows.map((r) => [String(r.day).slice(0, 10), r]));
  const first = rows.length ? String(rows[0].day).slice(0, 10) : today;
  const out = [];
  for (let i = 29; i >= 0; i--) {
    const day = localDay(new Date(Date.now() - i * 86400_000));
    if (i >= 14 && day < first) continue;
    out.push(byDay.get(day) ? { ...byDay.get(day), day } : { day, ...norm({}) });
  }
  return out;
}

function usdAxis(v) {
  if (v === 0) return '$0';
  if (v >= 10) return `$${Math.round(v)}`;
  if (v >= 0.1) return `$${v.toFixed(2)}`;
  return `$${Number(v.toPrecision(1))}`;
}

function norm(r) {
  return {
    inputTokens: Number(r.inputTokens) || 0,
    outputTokens: Number(r.outputTokens) || 0,
    cacheReadTokens: Number(r.cacheReadTokens) || 0,
    cacheWriteTokens: Number(r.cacheWriteTokens) || 0,
    costUsd: Number(r.costUsd) || 0,
  };
}

function stat(label, value, sub) {
  return h('div.stat', h('span.label', label), h('span.value', value), sub ? h('span.sub.muted', sub) : null);
}
