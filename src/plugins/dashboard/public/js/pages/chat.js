// Chat with a registered local group. History comes from the API once; after
// that every message (yours, other members', and the assistant's replies)
// arrives on the live stream the moment it is stored. While the assistant works
// the page says so, lists its tool calls as they start, says when the model API
// is not answering, and offers Stop.
import { api, openStream } from '../api.js';
import { fmtTime, h, notice, put, withIcons } from '../dom.js';

const LAST_CHAT = 'nanoclaw.chat';

export function render(root, ctx) {
  const name = ctx.status?.assistantName || 'the assistant';
  const owners = ctx.status?.ownerSenders || ['dashboard'];
  const state = {
    jid: localStorage.getItem(LAST_CHAT) || 'local:main',
    groups: [],
    seen: new Set(),
    waitingSince: 0,
    typing: false,
    delayed: false,
  };
  let stopped = false;
  let workingTimer = null;
  let stopTools = null;

  const picker = h('select', { id: 'chat-group', 'aria-label': 'Chat', onchange: () => open(picker.value) });
  const hint = h('p.muted.small');
  const msgs = h('ol.messages', { id: 'messages', 'aria-live': 'polite' });
  const workingText = h('span.working-text');
  const stopButton = h('button.stop', { type: 'button', id: 'chat-stop', onclick: () => stopTurn() }, 'Stop');
  const working = h('div.working', { id: 'working', hidden: true, role: 'status' }, workingText, stopButton);
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
    // A notice during the turn (the model API is slow) does not end it; the agent going quiet does.
    if (m.fromAssistant && !state.typing) stopWorking();
  });
  const unsubscribeTyping = ctx.onTyping((t) => {
    if (t.chatJid !== state.jid) return;
    state.typing = t.typing;
    if (t.typing) startWorking();
    else stopWorking();
  });

  /** One line per tool call, in the conversation where it happened: "Bash · ls -la". */
  function addTool(t) {
    const nearBottom = msgs.scrollHeight - msgs.scrollTop - msgs.clientHeight < 80;
    msgs.append(
      h(
        'li.tool',
        h('span.tool-name', t.tool),
        t.detail ? h('span.tool-detail', ` · ${t.detail}`) : null,
        h('time', { datetime: t.at, title: new Date(t.at).toLocaleString() }, ` ${fmtTime(t.at)}`),
      ),
    );
    if (nearBottom) msgs.scrollTop = msgs.scrollHeight;
    startWorking();
    if (!state.delayed) workingText.textContent = `${name} is using ${t.tool}`;
  }

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
    if (stopped) return; // the page was left before its groups loaded
    state.jid = jid;
    state.seen.clear();
    state.typing = false;
    localStorage.setItem(LAST_CHAT, jid);
    stopWorking();
    stopTools?.();
    stopTools = openStream(`/api/chats/${encodeURIComponent(jid)}/tools`, {
      onEvent: (ev) => ev.event === 'tool' && addTool(JSON.parse(ev.data)),
    });
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
      // Opened mid-turn: the typing event that started it came before this page.
      const st = await ctx.refreshStatus();
      if (state.jid === jid && st.agents.some((a) => a.jid === jid && a.working)) {
        state.typing = true;
        startWorking();
      }
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

  // "Andy is working…" until the turn ends; "delayed" while the model API fails or does not answer.
  function startWorking() {
    if (!working.hidden) return;
    state.waitingSince = Date.now();
    state.delayed = false;
    working.hidden = false;
    working.classList.remove('delayed');
    workingText.textContent = `${name} is working`;
    stopButton.disabled = false;
    stopButton.textContent = 'Stop';
    clearInterval(workingTimer);
    workingTimer = setInterval(async () => {
      if (Date.now() - state.waitingSince > 10 * 60_000) return stopWorking();
      try {
        const problem = (await ctx.refreshStatus()).modelError;
        if (working.hidden) return;
        state.delayed = !!problem;
        working.classList.toggle('delayed', !!problem);
        if (problem) workingText.textContent = `Delayed: ${problem.message}; ${problem.fix}.`;
        else if (workingText.textContent.startsWith('Delayed')) workingText.textContent = `${name} is working`;
      } catch {
        /* the stream indicator shows connection trouble */
      }
    }, 1500);
  }

  function stopWorking() {
    clearInterval(workingTimer);
    working.hidden = true;
    state.delayed = false;
  }

  // Ends the turn at work: the host stops the agent and says so in the chat; its messages are not taken up again.
  async function stopTurn() {
    stopButton.disabled = true;
    stopButton.textContent = 'Stopping…';
    try {
      await api(`/api/chats/${encodeURIComponent(state.jid)}/stop`, { method: 'POST', json: {} });
    } catch (err) {
      notice(status, `Not stopped: ${err.message}`, 'error');
      if (err.status === 409) stopWorking();
      stopButton.disabled = false;
      stopButton.textContent = 'Stop';
    }
  }

  loadGroups();
  return () => {
    stopped = true;
    unsubscribe();
    unsubscribeTyping();
    stopTools?.();
    stopWorking();
  };
}
