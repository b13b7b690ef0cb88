// The host's log as `nanoclaw logs -f` shows it (a line per finished turn and per problem), live, with the
// newest at the bottom; the chat picker keeps only the lines about one chat.
import { api, openStream } from '../api.js';
import { h, notice, put } from '../dom.js';

const KEEP = 1000;

export function render(root) {
  const lines = [];
  let groups = [];
  const picker = h('select', { id: 'logs-chat', 'aria-label': 'Chat', onchange: () => draw() });
  const status = h('div');
  const list = h('ol.log-lines', { id: 'log-lines', 'aria-live': 'polite' });
  put(
    root,
    h(
      'div.logs',
      h(
        'div.logs-head',
        h('label', { for: 'logs-chat' }, 'Chat'),
        picker,
        h('p.muted.small', 'What ', h('code', 'nanoclaw logs -f'), ' shows, as it is written.'),
      ),
      status,
      list,
    ),
  );

  /** The picked chat's folder and jid: a line names either. */
  const wanted = () => groups.find((g) => g.jid === picker.value);
  const shows = (l, g = wanted()) => !g || l.group === g.folder || l.chat === g.jid;

  function row(l) {
    const time = l.time ? new Date(l.time).toLocaleTimeString([], { hour12: false }) : '—';
    return h(
      `li.log.lv-${l.level.toLowerCase()}`,
      h('time', time),
      ' ',
      h('span.level', l.level.padEnd(5)),
      ' ',
      h('span.log-text', l.text),
    );
  }

  function draw() {
    const g = wanted();
    const shown = lines.filter((l) => shows(l, g));
    put(list, shown.length ? shown.map(row) : h('li.empty.muted', 'No log lines yet.'));
    list.scrollTop = list.scrollHeight;
  }

  function add(l) {
    lines.push(l);
    if (lines.length > KEEP) lines.shift();
    if (!shows(l)) return;
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.querySelector('li.empty')?.remove();
    list.append(row(l));
    while (list.children.length > KEEP) list.firstChild.remove();
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  api('/api/groups').then(
    (r) => {
      groups = r.groups;
      const current = picker.value;
      put(
        picker,
        h('option', { value: '' }, 'All chats'),
        groups.map((g) => h('option', { value: g.jid, selected: g.jid === current }, `${g.name} (${g.jid})`)),
      );
      draw();
    },
    (err) => notice(status, err.message, 'error'),
  );
  put(picker, h('option', { value: '' }, 'All chats'));

  // The stream starts with the last lines each time it (re)connects.
  return openStream('/api/logs?lines=300', {
    onEvent: (ev) => {
      if (ev.event === 'ready') {
        lines.length = 0;
        draw();
      } else if (ev.event === 'line') add(JSON.parse(ev.data));
    },
    onState: (on) => notice(status, on ? '' : 'The log stream is reconnecting…', on ? undefined : 'error'),
  });
}
