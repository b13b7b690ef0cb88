// Groups: the registered chats with their settings, and the chats each channel
// has seen that are not registered yet (register with one click).
import { api } from '../api.js';
import { channelOf, confirmButton, fmtTime, h, notice, put, slug } from '../dom.js';

// What each policy lets a group's sandbox reach besides the model API.
const EGRESS = [
  ['', 'Default: the web (ports 80/443) + the list below'],
  ['none', 'None: only the model API'],
  ['allowlist', 'Only the destinations listed below'],
  ['open', 'Open: any public host and port'],
];

/** The kinds of action a group can be made to ask about, with their defaults. */
const APPROVAL_KINDS = [
  ['network', 'New hosts', 'ask'],
  ['mount_write', 'Writes to host folders', 'ask'],
  ['bash', 'Listed Bash commands', 'allow'],
  ['cross_chat', 'Tasks for other chats (main)', 'allow'],
  ['groups', 'Registering chats (main)', 'allow'],
  ['task_budget', 'Raising task budgets', 'allow'],
  ['mcp', 'Adding MCP servers', 'ask'],
];

export function render(root, ctx) {
  const name = ctx.status?.assistantName || 'Andy';
  const msg = h('div', { id: 'groups-notice' });
  const registered = h('div.cards', { id: 'registered' });
  const known = h('div', { id: 'known' });
  const addLocal = localForm();

  put(
    root,
    msg,
    h('h2', 'Registered'),
    registered,
    h('h2', 'Add a local chat'),
    h(
      'p.muted.small',
      'A chat on this dashboard and in ',
      h('code', 'nanoclaw chat --group <folder>'),
      ', with its own folder, memory and sandbox.',
    ),
    addLocal,
    h('h2', 'Seen, not registered'),
    h('p.muted.small', `Chats ${name} has received messages from. Register one to let ${name} answer there.`),
    known,
  );

  async function load() {
    let data;
    try {
      data = await api('/api/groups');
    } catch (err) {
      return notice(msg, err.message, 'error');
    }
    put(registered, data.groups.map(groupCard));
    const byChannel = new Map();
    for (const c of data.unregistered) {
      const ch = c.channel || channelOf(c.jid);
      if (!byChannel.has(ch)) byChannel.set(ch, []);
      byChannel.get(ch).push(c);
    }
    put(
      known,
      byChannel.size
        ? [...byChannel].map(([ch, chats]) =>
            h('section.channel-group', h('h3', ch), h('div.cards', chats.map(knownCard))),
          )
        : h('p.muted', 'None yet. Chats appear here once a channel receives a message from them.'),
    );
  }

  function groupCard(g) {
    const sb = g.sandbox || {};
    const editor = h('div.editor', { hidden: true });
    const tools = h('div.editor.mcp', { hidden: true });
    const card = h(
      'article.card.group',
      { dataset: { jid: g.jid } },
      h(
        'div.card-head',
        h('strong', g.name),
        g.isMain ? h('span.badge.main', 'main') : null,
        h('span.badge', channelOf(g.jid)),
      ),
      h(
        'dl.facts',
        h('dt', 'Chat'),
        h('dd', h('code', g.jid)),
        h('dt', 'Folder'),
        h('dd', h('code', `groups/${g.folder}`)),
        h('dt', 'Answers'),
        h('dd', g.requiresTrigger ? `messages starting with ${g.trigger}` : 'every message'),
        h('dt', 'Sandbox'),
        h('dd', sandboxSummary(sb)),
      ),
      h(
        'div.actions',
        h(
          'button',
          {
            type: 'button',
            class: 'settings',
            onclick: () => {
              editor.hidden = !editor.hidden;
              if (!editor.hidden && !editor.firstChild) put(editor, settingsForm(g));
            },
          },
          'Settings',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'mcp',
            onclick: () => {
              tools.hidden = !tools.hidden;
              if (!tools.hidden) mcpPanel(g, tools);
            },
          },
          'MCP servers',
        ),
        g.isMain
          ? null
          : confirmButton('Unregister', 'Click again to unregister', async () => {
              try {
                await api(`/api/groups/${encodeURIComponent(g.jid)}`, { method: 'DELETE' });
                await load();
                notice(msg, `Unregistered ${g.name}. Its folder groups/${g.folder} is kept.`);
              } catch (err) {
                notice(msg, err.message, 'error');
              }
            }),
      ),
      editor,
      tools,
    );
    return card;
  }

  /** The chat's MCP servers (more tools for its agent), with a form to add one and a button to remove each. */
  async function mcpPanel(g, el) {
    const url = `/api/groups/${encodeURIComponent(g.jid)}/mcp`;
    const out = h('div');
    let servers;
    try {
      ({ servers } = await api(url));
    } catch (err) {
      return put(el, h('p.notice.error', { role: 'alert' }, err.message));
    }
    const f = {
      name: h('input', { name: 'mcpName', placeholder: 'memory', required: true }),
      package: h('input', { name: 'mcpPackage', placeholder: '@modelcontextprotocol/server-memory' }),
      command: h('input', { name: 'mcpCommand', placeholder: 'mcp-server-memory --flag' }),
      url: h('input', { name: 'mcpUrl', placeholder: 'https://mcp.example.com/mcp' }),
      bearer: h('input', { name: 'mcpBearer', type: 'password', autocomplete: 'off' }),
    };
    const form = h(
      'form.mcp-add',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          const words = f.command.value.trim().split(/\s+/).filter(Boolean);
          const body = { name: f.name.value.trim() };
          if (f.url.value.trim()) Object.assign(body, { url: f.url.value.trim(), bearer: f.bearer.value || undefined });
          else
            Object.assign(body, {
              package: f.package.value.trim() || undefined,
              command: words[0],
              args: words.slice(1),
            });
          notice(out, 'Adding… (a package is installed first)');
          try {
            const { server } = await api(url, { method: 'POST', json: body });
            await mcpPanel(g, el);
            notice(
              msg,
              `Added the MCP server "${server.name}" to ${g.name}: its tools appear from the next message on.`,
            );
          } catch (err) {
            notice(out, err.message, 'error');
          }
        },
      },
      h(
        'div.grid',
        field('Name (tools appear as mcp__<name>__<tool>)', f.name),
        field('npm package (installed into the chat’s folder)', f.package),
        field('Command and arguments (runs in the chat’s sandbox)', f.command),
        field('Or: remote server URL (reached through the host)', f.url),
        field('Its bearer token (stays on this machine)', f.bearer),
      ),
      out,
      h('div.actions', h('button.primary', { type: 'submit' }, 'Add server')),
    );
    put(
      el,
      servers.length
        ? h(
            'ul.mcp-servers',
            servers.map((m) =>
              h(
                'li',
                { dataset: { name: m.name } },
                h('strong', m.name),
                ' ',
                h('code', mcpWhat(m)),
                m.failure ? h('span.notice.error', ` did not start: ${m.failure}`) : null,
                ' ',
                confirmButton('Remove', 'Click again to remove', async () => {
                  try {
                    await api(`${url}/${encodeURIComponent(m.name)}`, { method: 'DELETE' });
                    await mcpPanel(g, el);
                    notice(msg, `Removed the MCP server "${m.name}" from ${g.name}.`);
                  } catch (err) {
                    notice(msg, err.message, 'error');
                  }
                }),
              ),
            ),
          )
        : h('p.muted.small', 'No MCP servers: the agent has only the built-in tools.'),
      form,
    );
  }

  function settingsForm(g) {
    const sb = g.sandbox || {};
    const out = h('div');
    const f = {
      name: h('input', { name: 'name', value: g.name, required: true, maxlength: 200 }),
      trigger: h('input', { name: 'trigger', value: g.trigger, required: true, maxlength: 100 }),
      requiresTrigger: h('input', { type: 'checkbox', name: 'requiresTrigger', checked: g.requiresTrigger }),
      memoryMb: num('memoryMb', sb.memoryMb, '2048', 128),
      cpus: num('cpus', sb.cpus, '1', 0.1, 0.1),
      pids: num('pids', sb.pids, '512', 16),
      timeoutMin: num('timeoutMin', sb.timeoutMs && sb.timeoutMs / 60000, 'default', 1, 0.5),
      idleMin: num('idleMin', sb.idleTimeoutMs && sb.idleTimeoutMs / 60000, 'default', 0.1, 0.1),
      // Blank: the host's (NANOCLAW_MODEL, NANOCLAW_EFFORT), else the SDK's.
      model: h('input', { name: 'model', value: sb.model || '', placeholder: "default (the host's)", maxlength: 100 }),
      effort: h(
        'select',
        { name: 'effort' },
        [
          ['', "default (the host's)"],
          ['low', 'low'],
          ['medium', 'medium'],
          ['high', 'high'],
        ].map(([v, l]) => h('option', { value: v, selected: (sb.effort || '') === v }, l)),
      ),
      // Blank: no heartbeat.
      heartbeat: num('heartbeatMinutes', sb.heartbeatMinutes, 'off (30 when on)', 5),
      quiet: h('input', {
        name: 'heartbeatQuiet',
        value: sb.heartbeatQuiet || '',
        placeholder: '22:00-07:00',
        maxlength: 20,
      }),
      egress: h(
        'select',
        { name: 'egress' },
        EGRESS.map(([v, label]) => h('option', { value: v, selected: (sb.egress || '') === v }, label)),
      ),
      allowlist: h('textarea', {
        name: 'egressAllowlist',
        rows: 3,
        placeholder: 'example.com\n*.github.com\ndb.example.com:5432\n192.168.1.20:8123',
        value: (sb.egressAllowlist || []).join('\n'),
      }),
    };
    // Ask me first: per kind allow / ask / deny (blank: the default), and the Bash words that count.
    const ap = sb.approvals || {};
    const kinds = APPROVAL_KINDS.map(([kind, label, def]) => [
      kind,
      label,
      h(
        'select',
        { name: `approval-${kind}` },
        [
          ['', `default (${def})`],
          ['allow', 'allow'],
          ['ask', 'ask me'],
          ['deny', 'deny'],
        ].map(([v, l]) => h('option', { value: v, selected: ((ap.policy || {})[kind] || '') === v }, l)),
      ),
    ]);
    const bashPatterns = h('input', {
      name: 'bashPatterns',
      placeholder: 'rm, git push',
      value: (ap.bashPatterns || []).join(', '),
    });
    const mounts = h('div.mounts');
    const addMount = (m = {}) => {
      const row = h(
        'div.mount-row',
        h('input', {
          name: 'hostPath',
          placeholder: '/home/me/projects',
          value: m.hostPath || '',
          'aria-label': 'Host path',
        }),
        h('input', {
          name: 'containerPath',
          placeholder: 'projects',
          value: m.containerPath || '',
          'aria-label': 'Name inside (/workspace/extra/…)',
        }),
        h(
          'label.inline',
          h('input', { type: 'checkbox', name: 'readonly', checked: m.readonly !== false }),
          'read-only',
        ),
        h('button.link', { type: 'button', onclick: () => row.remove() }, 'Remove'),
      );
      mounts.append(row);
    };
    (sb.extraMounts || []).forEach(addMount);

    const form = h(
      'form.settings',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          const minutes = (input) => (input.value === '' ? null : Math.round(Number(input.value) * 60000));
          const number = (input) => (input.value === '' ? null : Number(input.value));
          const extraMounts = [...mounts.children]
            .map((row) => ({
              hostPath: row.querySelector('[name=hostPath]').value.trim(),
              containerPath: row.querySelector('[name=containerPath]').value.trim(),
              readonly: row.querySelector('[name=readonly]').checked,
            }))
            .filter((m) => m.hostPath || m.containerPath);
          const hosts = f.allowlist.value
            .split(/[\s,]+/)
            .map((s) => s.trim())
            .filter(Boolean);
          const patch = {
            name: f.name.value.trim(),
            trigger: f.trigger.value.trim(),
            requiresTrigger: f.requiresTrigger.checked,
            sandbox: {
              memoryMb: number(f.memoryMb),
              cpus: number(f.cpus),
              pids: number(f.pids),
              timeoutMs: minutes(f.timeoutMin),
              idleTimeoutMs: minutes(f.idleMin),
              model: f.model.value.trim() || null,
              effort: f.effort.value || null,
              heartbeatMinutes: number(f.heartbeat),
              heartbeatQuiet: f.quiet.value.trim() || null,
              egress: f.egress.value || null,
              egressAllowlist: hosts.length ? hosts : null,
              extraMounts: extraMounts.length ? extraMounts : null,
              approvals: {
                ...ap,
                policy: Object.fromEntries(kinds.map(([kind, , sel]) => [kind, sel.value]).filter(([, v]) => v)),
                bashPatterns: bashPatterns.value
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
              },
            },
          };
          try {
            const { group } = await api(`/api/groups/${encodeURIComponent(g.jid)}`, { method: 'PATCH', json: patch });
            await load();
            notice(msg, `Saved settings for ${group.name}. They apply to the next agent run.`);
          } catch (err) {
            notice(out, err.message, 'error');
          }
        },
      },
      h(
        'div.grid',
        field('Name', f.name),
        field('Trigger', f.trigger),
        h('label.inline.wide', f.requiresTrigger, 'Only answer messages that start with the trigger'),
        field('Memory (MB)', f.memoryMb),
        field('CPUs', f.cpus),
        field('Processes', f.pids),
        field('Turn timeout (min)', f.timeoutMin),
        field('Idle timeout (min)', f.idleMin),
        field('Model', f.model),
        field('Effort', f.effort),
        field('Heartbeat every (min; reads HEARTBEAT.md, writes only when worth it)', f.heartbeat),
        field('Quiet hours (no heartbeat)', f.quiet),
        field('Network', f.egress),
        field(
          'Allowed destinations (one per line; your own machine or network, e.g. 192.168.1.20:8123, ' +
            'only when listed here: an answer never allows it)',
          f.allowlist,
          'wide',
        ),
      ),
      h(
        'fieldset',
        h('legend', 'Extra folders (checked against the mount allowlist)'),
        mounts,
        h('button.link', { type: 'button', onclick: () => addMount() }, '+ Add a folder'),
      ),
      h(
        'fieldset',
        h('legend', 'Ask me first (the owner answers "yes CODE" in the main chat)'),
        h(
          'div.grid',
          kinds.map(([, label, sel]) => field(label, sel)),
          field('Bash commands to ask about (comma-separated words)', bashPatterns, 'wide'),
        ),
      ),
      out,
      h('div.actions', h('button.primary', { type: 'submit' }, 'Save settings')),
    );
    return form;
  }

  function knownCard(c) {
    const form = registerForm(c.jid, c.name || '');
    form.hidden = true;
    return h(
      'article.card.known',
      { dataset: { jid: c.jid } },
      h('div.card-head', h('strong', c.name || c.jid), c.isGroup ? h('span.badge', 'group') : null),
      h('p.small.muted', h('code', c.jid), c.lastMessageAt ? ` · last message ${fmtTime(c.lastMessageAt)}` : ''),
      h(
        'div.actions',
        h(
          'button',
          {
            type: 'button',
            class: 'register',
            onclick: () => {
              form.hidden = !form.hidden;
            },
          },
          'Register',
        ),
      ),
      form,
    );
  }

  function registerForm(jid, chatName) {
    const out = h('div');
    const nameIn = h('input', { name: 'name', value: chatName, required: true, maxlength: 200 });
    const folderIn = h('input', {
      name: 'folder',
      value: slug(chatName || jid),
      required: true,
      pattern: '[a-z0-9][a-z0-9_\\-]{0,63}',
    });
    const triggerIn = h('input', { name: 'trigger', value: `@${name}`, maxlength: 100 });
    const requires = h('input', { type: 'checkbox', name: 'requiresTrigger', checked: true });
    nameIn.addEventListener('input', () => {
      folderIn.value = slug(nameIn.value);
    });
    return h(
      'form.register',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const { group } = await api('/api/groups', {
              method: 'POST',
              json: {
                jid,
                name: nameIn.value.trim(),
                folder: folderIn.value.trim(),
                trigger: triggerIn.value.trim(),
                requiresTrigger: requires.checked,
              },
            });
            await load();
            notice(msg, `Registered ${group.name} in groups/${group.folder}.`);
          } catch (err) {
            notice(out, err.message, 'error');
          }
        },
      },
      h(
        'div.grid',
        field('Name', nameIn),
        field('Folder', folderIn),
        field('Trigger', triggerIn),
        h('label.inline.wide', requires, 'Only answer messages that start with the trigger'),
      ),
      out,
      h('div.actions', h('button.primary', { type: 'submit' }, 'Register')),
    );
  }

  function localForm() {
    const out = h('div');
    const nameIn = h('input', {
      name: 'name',
      id: 'local-name',
      placeholder: 'Family',
      required: true,
      maxlength: 200,
    });
    const requires = h('input', { type: 'checkbox', name: 'requiresTrigger' });
    return h(
      'form.card.add-local',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          const folder = slug(nameIn.value);
          try {
            const { group } = await api('/api/groups', {
              method: 'POST',
              json: { jid: `local:${folder}`, name: nameIn.value.trim(), folder, requiresTrigger: requires.checked },
            });
            nameIn.value = '';
            await load();
            notice(msg, `Added ${group.name}: chat with it in Chat, or run nanoclaw chat --group ${group.folder}.`);
          } catch (err) {
            notice(out, err.message, 'error');
          }
        },
      },
      h('div.grid', field('Name', nameIn), h('label.inline', requires, `Only answer messages starting with @${name}`)),
      out,
      h('div.actions', h('button.primary', { type: 'submit' }, 'Add chat')),
    );
  }

  load();
  return () => {};
}

function num(name, value, placeholder, min, step = 1) {
  return h('input', { type: 'number', name, value: value ?? '', placeholder, min, step, inputmode: 'decimal' });
}

function field(label, input, cls) {
  return h(`label.field${cls ? '.' + cls : ''}`, h('span', label), input);
}

/** Exactly what runs or is reached, as the CLI says it (never a credential's value). */
function mcpWhat(m) {
  if (m.url) return `reach ${m.url}${m.credential ? ` (the host adds its ${m.credential} header)` : ''}`;
  return `${m.package ? `npm install ${m.package}, then run: ` : 'run: '}${[m.command, ...m.args].join(' ')}`;
}

function sandboxSummary(sb) {
  const parts = [];
  if (sb.model || sb.effort) parts.push(`model: ${sb.model || 'default'}${sb.effort ? ` (${sb.effort} effort)` : ''}`);
  if (sb.heartbeatMinutes) parts.push(`heartbeat every ${sb.heartbeatMinutes} min`);
  parts.push(`network: ${sb.egress || 'default'}`);
  if (sb.memoryMb) parts.push(`${sb.memoryMb} MB`);
  if (sb.cpus) parts.push(`${sb.cpus} CPU`);
  const mounts = sb.extraMounts || [];
  if (mounts.length) parts.push(`${mounts.length} extra folder${mounts.length === 1 ? '' : 's'}`);
  return parts.join(' · ');
}
