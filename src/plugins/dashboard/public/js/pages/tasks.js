// Scheduled tasks: what runs when (in this browser's local time), how the last
// run went, the run history, and pause / resume / cancel / create; then the
// chats' heartbeats, each beat with what it decided.
import { api } from '../api.js';
import { confirmButton, fmtDuration, fmtRelative, fmtTime, fmtTokens, h, notice, put } from '../dom.js';

export function render(root, ctx) {
  const msg = h('div', { id: 'tasks-notice' });
  const list = h('div.cards', { id: 'task-list' });
  const detail = h('div', { id: 'task-detail' });
  const create = h('div');
  const beats = h('div', { id: 'heartbeats' });
  let openId = null;

  put(
    root,
    msg,
    h('h2', 'Scheduled tasks'),
    list,
    detail,
    h('h2', 'New task'),
    create,
    h('h2', 'Heartbeats'),
    h(
      'p.muted.small',
      'A chat with a heartbeat (Groups → Settings, or ',
      h('code', 'nanoclaw groups set <folder> heartbeat=on'),
      ') reads HEARTBEAT.md in its folder and writes only when something is worth saying.',
    ),
    beats,
  );

  async function load() {
    let tasks;
    try {
      ({ tasks } = await api('/api/tasks'));
    } catch (err) {
      put(list);
      return notice(
        msg,
        err.status === 404 ? 'Scheduled tasks are not available in this version of NanoClaw.' : err.message,
        err.status === 404 ? 'ok' : 'error',
      );
    }
    tasks.sort((a, b) => order(a) - order(b) || String(a.nextRun || '').localeCompare(String(b.nextRun || '')));
    put(
      list,
      tasks.length
        ? tasks.map(taskCard)
        : h(
            'p.muted',
            `No tasks yet. Ask ${ctx.status?.assistantName || 'the assistant'} in a chat ("every weekday at 9, send me…") or create one below.`,
          ),
    );
    if (openId) showRuns(openId);
    loadBeats();
  }

  // Newest first: quiet (nothing sent), said (the message sent), skipped or failed (why).
  async function loadBeats() {
    let rows;
    try {
      ({ beats: rows } = await api('/api/heartbeats'));
    } catch {
      return put(beats);
    }
    put(
      beats,
      rows.length
        ? h(
            'div.table-scroll',
            h(
              'table.beats',
              h('thead', h('tr', h('th', 'When'), h('th', 'Chat'), h('th', 'Decided'), h('th', 'What'))),
              h(
                'tbody',
                rows.map((b) =>
                  h(
                    'tr',
                    { dataset: { decision: b.decision } },
                    h('td', h('time', { datetime: b.at }, fmtTime(b.at))),
                    h('td', b.groupFolder),
                    h('td', b.decision === 'quiet' ? 'quiet: nothing sent' : b.decision),
                    h('td', b.detail),
                  ),
                ),
              ),
            ),
          )
        : h('p.muted', 'No beats yet.'),
    );
  }

  function taskCard(t) {
    const status = t.status || 'active';
    const { nextRun: next, lastRun: last, lastResult: result, statusReason: reason, budgetTokens: budget } = t;
    return h(
      'article.card.task',
      { dataset: { id: t.id, status } },
      h(
        'div.card-head',
        h(`span.badge.status-${status}`, status),
        h('strong', t.groupFolder || ''),
        h('span.muted.small', schedule(t)),
      ),
      h('p.prompt', t.prompt),
      reason ? h(status === 'paused' ? 'p.small.warn' : 'p.small.muted', reason) : null,
      h(
        'dl.facts',
        h('dt', 'Next run'),
        h(
          'dd',
          status === 'active' && next
            ? [h('time', { datetime: next }, fmtTime(next)), ' ', h('span.muted', `(${fmtRelative(next)})`)]
            : '—',
        ),
        h('dt', 'Last run'),
        h('dd', last ? `${fmtTime(last)} (${fmtRelative(last)})` : 'never'),
        result ? [h('dt', 'Last result'), h('dd.result', String(result).slice(0, 400))] : null,
        budget ? [h('dt', 'Budget'), h('dd', `${fmtTokens(budget)} tokens per run`)] : null,
      ),
      h(
        'div.actions',
        status === 'active'
          ? h('button', { type: 'button', class: 'pause', onclick: () => act(t, 'pause') }, 'Pause')
          : null,
        status === 'paused'
          ? h('button', { type: 'button', class: 'resume', onclick: () => act(t, 'resume') }, 'Resume')
          : null,
        h('button.link', { type: 'button', onclick: () => showRuns(t.id) }, 'Run history'),
        status !== 'completed' && status !== 'cancelled'
          ? confirmButton('Cancel', 'Click again to cancel the task', async () => {
              try {
                await api(`/api/tasks/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
                await load();
                notice(msg, 'Task cancelled.');
              } catch (err) {
                notice(msg, err.message, 'error');
              }
            })
          : null,
      ),
    );
  }

  async function act(t, action) {
    try {
      await api(`/api/tasks/${encodeURIComponent(t.id)}/${action}`, { method: 'POST' });
      await load();
      notice(msg, action === 'pause' ? 'Task paused: it will not run until resumed.' : 'Task resumed.');
    } catch (err) {
      notice(msg, err.message, 'error');
    }
  }

  async function showRuns(id) {
    openId = id;
    try {
      const { task, runs } = await api(`/api/tasks/${encodeURIComponent(id)}`);
      put(
        detail,
        h(
          'section.card.runs',
          { id: 'task-runs' },
          h(
            'div.card-head',
            h('strong', 'Run history'),
            h('span.muted.small', task.prompt.slice(0, 80)),
            h(
              'button.link',
              {
                type: 'button',
                onclick: () => {
                  openId = null;
                  put(detail);
                },
              },
              'Close',
            ),
          ),
          h('p.small.muted', `Context: ${task.contextMode || 'isolated'} · created ${fmtTime(task.createdAt)}`),
          runs.length
            ? h(
                'table.runs',
                h(
                  'thead',
                  h('tr', h('th', 'Started'), h('th', 'Took'), h('th', 'Status'), h('th', 'Tokens'), h('th', 'Result')),
                ),
                h(
                  'tbody',
                  runs.map((r) =>
                    h(
                      'tr',
                      h('td', fmtTime(r.startedAt)),
                      h('td', fmtDuration(r.durationMs)),
                      h('td', h(`span.badge.status-${r.status}`, r.status)),
                      h('td', fmtTokens((r.inputTokens || 0) + (r.outputTokens || 0))),
                      h('td.result', String(r.error || r.result || '').slice(0, 300)),
                    ),
                  ),
                ),
              )
            : h('p.muted', 'It has not run yet.'),
        ),
      );
    } catch (err) {
      notice(msg, err.message, 'error');
    }
  }

  async function buildCreateForm() {
    let groups = [];
    try {
      ({ groups } = await api('/api/groups'));
    } catch {
      /* shown by load() */
    }
    const out = h('div');
    const group = h(
      'select',
      { name: 'group' },
      groups.map((g) => h('option', { value: g.folder }, `${g.name} (${g.folder})`)),
    );
    const prompt = h('textarea', {
      name: 'prompt',
      rows: 3,
      required: true,
      placeholder: 'Send me a summary of the news on AI agents',
    });
    const type = h(
      'select',
      { name: 'schedule_type' },
      h('option', { value: 'cron' }, 'Cron (minute hour day month weekday)'),
      h('option', { value: 'interval' }, 'Every N minutes'),
      h('option', { value: 'once' }, 'Once'),
    );
    const cron = h('input', { name: 'cron', placeholder: '0 9 * * 1-5', value: '0 9 * * 1-5' });
    const minutes = h('input', { name: 'minutes', type: 'number', min: 1, step: 1, value: 60, hidden: true });
    const once = h('input', { name: 'once', type: 'datetime-local', hidden: true });
    const budget = h('input', {
      name: 'budget_tokens',
      type: 'number',
      min: 1000,
      step: 1000,
      placeholder: 'no limit',
      inputmode: 'numeric',
    });
    const mode = h(
      'select',
      { name: 'context_mode' },
      h('option', { value: 'isolated' }, 'Fresh each run'),
      h('option', { value: 'group' }, "With the group's conversation"),
    );
    type.addEventListener('change', () => {
      cron.hidden = type.value !== 'cron';
      minutes.hidden = type.value !== 'interval';
      once.hidden = type.value !== 'once';
    });
    put(
      create,
      h(
        'form.card.new-task',
        {
          onsubmit: async (e) => {
            e.preventDefault();
            const value =
              type.value === 'cron'
                ? cron.value.trim()
                : type.value === 'interval'
                  ? String(Math.round(Number(minutes.value) * 60000))
                  : once.value
                    ? new Date(once.value).toISOString()
                    : '';
            try {
              await api('/api/tasks', {
                method: 'POST',
                json: {
                  group_folder: group.value,
                  prompt: prompt.value.trim(),
                  schedule_type: type.value,
                  schedule_value: value,
                  context_mode: mode.value,
                  budget_tokens: budget.value ? Number(budget.value) : undefined,
                },
              });
              prompt.value = '';
              notice(out, '');
              await load();
              notice(msg, 'Task created.');
            } catch (err) {
              notice(out, err.message, 'error');
            }
          },
        },
        h(
          'div.grid',
          h('label.field', h('span', 'Group'), group),
          h('label.field', h('span', 'Context'), mode),
          h('label.field.wide', h('span', 'Prompt'), prompt),
          h('label.field', h('span', 'Schedule'), type),
          h('label.field', h('span', 'When'), cron, minutes, once),
          h('label.field', h('span', 'Token budget per run'), budget),
        ),
        out,
        h('div.actions', h('button.primary', { type: 'submit' }, 'Create task')),
      ),
    );
  }

  load();
  buildCreateForm();
  const timer = setInterval(load, 15_000);
  return () => clearInterval(timer);
}

function order(t) {
  return { active: 0, paused: 1 }[t.status] ?? 2;
}

function schedule(t) {
  const { scheduleType: type, scheduleValue: value } = t;
  if (type === 'interval') return `every ${fmtDuration(Number(value)).replace(/ 00s$/, '')}`;
  if (type === 'once') return `once at ${fmtTime(value)}`;
  return `cron ${value}`;
}
