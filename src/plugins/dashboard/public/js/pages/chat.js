// Chat with a registered local group. History comes from the API once; after
// that every message (yours, other members', and the assistant's replies)
// arrives on the live stream the moment it is stored.
import { api } from '../api.js';
import { fmtTime, h, notice, put, withIcons } from '../dom.js';

const LAST_CHAT = 'nanoclaw.chat';

export function render(root, ctx) {
  const name = ctx.status?.assistantName || 'the assistant';
  const owners = ctx.status?.ownerSenders || ['dashboard'];
  const state = { jid: localStorage.getItem(LAST_CHAT) || 'local:main', groups: [], seen: new Set(), waitingSince: 0 };
  let stopped = false;
  let workingTimer = null;

  const picker = h('select', { id: 'chat-group', 'aria-label': 'Chat', onchange: () => open(picker.value) });
  const hint = h('p.muted.small');
  const msgs = h('ol.messages', { id: 'messages', 'aria-live': 'polite' });
  const working = h('p.working', { id: 'working', hidden: true });
  const status = h('div');
  const input = h('textarea', {
    id: 'chat-input',
    rows: 2,
    placeholder: `Message ${name}…`,
    'aria-label': 'Message',
    maxlength: 100000,
  });
  const send = h('button.primary', { type: 'submit', id: 'chat-send' }, 'Send');
  const form = h(
    'form.composer',
    {
      onsubmit: (e) => {
        e.preventDefault();
        submit();
      },
    },
    input,
    send,
  );
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  put(
    root,
    h(
      'div.chat',
      h('div.chat-head', h('label', { for: 'chat-group' }, 'Chat'), picker, hint),
      status,
      msgs,
      working,
      form,
    ),
  );

  const unsubscribe = ctx.onMessage((m) => {
    if (m.chatJid !== state.jid) return;
    add(m);
    if (m.fromAssistant) stopWorking();
  });

  function add(m) {
    if (state.seen.has(m.id)) return;
    state.seen.add(m.id);
    const nearBottom = msgs.scrollHeight - msgs.scrollTop - msgs.clientHeight < 80;
    const who = m.fromAssistant ? 'assistant' : owners.includes(m.sender) ? 'user' : 'member';
    msgs.append(
      h(
        `li.msg.${who}`,
        { dataset: { id: m.id } },
        h(
          'div.meta',
          // Who wrote it is told by the sender id, never the name: a member may call itself "You" or the assistant's name.
          who === 'member'
            ? h('strong', m.senderName || m.sender, h('span.role', ' (member)'))
            : h('strong', m.senderName || (m.fromAssistant ? name : 'You')),
          ' · ',
          h('time', { datetime: m.timestamp, title: new Date(m.timestamp).toLocaleString() }, fmtTime(m.timestamp)),
        ),
        h('div.text', withIcons(m.text)),
        (m.attachments || []).length
          ? h(
              'div.attachments',
              m.attachments.map((a) => h('span.tag', `${a.kind}: ${a.path}`)),
            )
          : null,
      ),
    );
    if (nearBottom || !m.fromAssistant) msgs.scrollTop = msgs.scrollHeight;
  }

  async function loadGroups() {
    try {
      const { groups } = await api('/api/groups');
      state.groups = groups.filter((g) => g.jid.startsWith('local:'));
    } catch (err) {
      notice(status, err.message, 'error');
      return;
    }
    if (!state.groups.some((g) => g.jid === state.jid)) state.jid = state.groups[0]?.jid || 'local:main';
    put(
      picker,
      state.groups.map((g) => h('option', { value: g.jid, selected: g.jid === state.jid }, `${g.name} (${g.jid})`)),
    );
    await open(state.jid);
  }

  async function open(jid) {
    state.jid = jid;
    state.seen.clear();
    localStorage.setItem(LAST_CHAT, jid);
    stopWorking();
    const group = state.groups.find((g) => g.jid === jid);
    put(
      hint,
      group?.requiresTrigger
        ? `Start a message with ${group.trigger} to address ${name}.`
        : `${name} answers every message here. Other local chats: add one in Groups.`,
    );
    put(msgs);
    try {
      const { messages } = await api(`/api/chats/${encodeURIComponent(jid)}/messages?limit=200`);
      if (stopped || state.jid !== jid) return;
      for (const m of messages) add(m);
      msgs.scrollTop = msgs.scrollHeight;
      if (!messages.length) msgs.append(h('li.empty.muted', 'No messages yet. Say hello.'));
      notice(status, '');
    } catch (err) {
      notice(status, err.message, 'error');
    }
  }

  async function submit() {
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      await api(`/api/chats/${encodeURIComponent(state.jid)}/messages`, {
        method: 'POST',
        json: { sender: 'dashboard', senderName: 'You', text },
      });
      input.value = '';
      msgs.querySelector('li.empty')?.remove();
      notice(status, '');
      const group = state.groups.find((g) => g.jid === state.jid);
      const addressed = !group?.requiresTrigger || text.toLowerCase().startsWith(group.trigger.toLowerCase());
      if (addressed) startWorking();
    } catch (err) {
      notice(status, `Not sent: ${err.message}`, 'error');
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  // "Andy is thinking…" until the reply arrives, with the tool it is using.
  function startWorking() {
    state.waitingSince = Date.now();
    working.hidden = false;
    working.textContent = `${name} is thinking…`;
    clearInterval(workingTimer);
    workingTimer = setInterval(async () => {
      if (Date.now() - state.waitingSince > 10 * 60_000) return stopWorking();
      try {
        const st = await ctx.refreshStatus();
        const agent = st.agents.find((a) => a.jid === state.jid);
        if (agent?.tool) working.textContent = `${name} is using ${agent.tool}…`;
        else if (agent) working.textContent = `${name} is thinking…`;
      } catch {
        /* the stream indicator shows connection trouble */
      }
    }, 1500);
  }

  function stopWorking() {
    clearInterval(workingTimer);
    working.hidden = true;
  }

  loadGroups();
  return () => {
    stopped = true;
    unsubscribe();
    stopWorking();
  };
}
