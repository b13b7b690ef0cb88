// Channels: connection state per chat platform, and setting one up, changing, re-checking or removing it from its
// card. The running host starts a channel again at once with what was saved here, so the card shows its real
// state (connected, or why not) without a restart. Linking is by QR code (drawn by the host as an SVG) or pairing
// code. Which platforms exist and how each is set up come from the host's channel plugins (status.plugins); of a
// saved token the page only ever learns that it is set.
import { api } from '../api.js';
import { channelOf, confirmButton, every, h, notice, put } from '../dom.js';

const QR_HELP = 'Scan this code with the app on your phone. It refreshes every few seconds until linked.';
const PAIRING_HELP = 'Enter this code in the app on your phone:';
// A result box is coloured by its level, never green for a warning.
const KIND = { ok: 'ok', info: 'ok', warn: 'warn', fail: 'error' };

export function render(root, ctx) {
  const msg = h('div');
  const list = h('div.cards', { id: 'channels' });
  const extra = h('div');
  const qrCache = new Map(); // channel → { qr, url }
  const cards = new Map(); // channel → its card, kept across redraws so a half-typed form and a result survive
  const timers = new Set();
  let counts = new Map();

  put(root, msg, h('h2', 'Channels'), list, extra);

  async function loadCounts() {
    try {
      const { groups, unregistered } = await api('/api/groups');
      counts = new Map();
      for (const g of groups) bump(channelOf(g.jid), 'registered');
      for (const c of unregistered) bump(c.channel || channelOf(c.jid), 'seen');
    } catch {
      /* counts are a nicety */
    }
  }
  function bump(ch, key) {
    const c = counts.get(ch) || { registered: 0, seen: 0 };
    c[key]++;
    counts.set(ch, c);
  }

  async function draw() {
    let status;
    try {
      status = await ctx.refreshStatus();
      notice(msg, '');
    } catch (err) {
      return notice(msg, err.message, 'error');
    }
    const plugins = new Map((status.plugins || []).map((p) => [p.name, p]));
    const shown = [];
    for (const ch of status.channels) shown.push(await runningCard(ch, plugins.get(ch.name)));
    // Set up but not running (it could not start, or was set up by hand after the host started) is listed with them.
    const idle = [...plugins.values()].filter((p) => p.setup && !status.channels.some((c) => c.name === p.name));
    put(list, shown, idle.filter((p) => p.configured).map(idleCard));
    const unset = idle.filter((p) => !p.configured);
    put(
      extra,
      unset.length ? [h('h2', 'Not set up'), h('div.cards', { id: 'channels-off' }, unset.map(idleCard))] : null,
    );
  }

  function cardFor(name) {
    if (!cards.has(name)) {
      const c = {
        el: h('article.card.channel', { dataset: { channel: name } }),
        head: h('div.card-head'),
        about: h('div.about'),
        controls: h('div.controls'),
        out: h('div.form-msg', { id: `result-${name}` }),
        mode: null,
      };
      c.el.append(c.head, c.about, c.controls, c.out);
      cards.set(name, c);
    }
    return cards.get(name);
  }

  // cls: ok (connected), warn (waiting, or set up but not running), bad (disconnected), off (not set up).
  function paint(c, cls, label, state) {
    c.el.className = `card channel ${cls}`;
    c.el.dataset.state = state;
    put(c.head, h(`span.dot.${cls}`), h('strong', label), h('span.state', state));
  }

  // The controls are rebuilt only when the card changes between set up and not, so typing is never lost.
  function controls(c, mode, build) {
    if (c.mode === mode) return;
    c.mode = mode;
    put(c.controls, build());
  }

  async function runningCard(ch, p) {
    const c = cardFor(ch.name);
    const help = p?.linkHelp || {};
    const linking = ch.linking || {};
    const waiting = !ch.connected && (linking.qr || linking.pairingCode);
    const state = ch.connected ? 'connected' : waiting ? 'waiting to be linked' : 'disconnected';
    paint(c, ch.connected ? 'ok' : waiting ? 'warn' : 'bad', p?.label || ch.name, state);
    const n = counts.get(ch.name);
    const live = [
      ch.detail ? h(ch.connected ? 'p.small.detail' : 'p.small.detail.problem', ch.detail) : null,
      n
        ? h('p.small.muted', `${n.registered} registered chat${n.registered === 1 ? '' : 's'}, ${n.seen} more seen`)
        : null,
    ];
    if (linking.pairingCode)
      live.push(
        h(
          'div.pairing',
          h('p', help.pairingCode || PAIRING_HELP),
          h('code.pairing-code', { id: `pairing-${ch.name}` }, linking.pairingCode),
        ),
      );
    if (linking.qr) live.push(await qrBlock(ch.name, linking.qr, help.qr || QR_HELP));
    put(c.about, live);
    if (p?.setup) controls(c, 'set', () => actions(p, c));
    return c.el;
  }

  function idleCard(p) {
    const c = cardFor(p.name);
    if (p.configured) {
      // Set up after the host started it (or it could not start): Re-check starts it.
      paint(c, 'warn', p.label, 'set up, not running');
      put(c.about, h('p.small.detail.problem', `${p.label} is set up but not running: Re-check starts it.`));
      controls(c, 'set', () => actions(p, c));
      return c.el;
    }
    paint(c, 'off', p.label, 'not set up');
    const { before, command, after } = p.setup;
    put(c.about, h('p.small', before, h('code', command), after));
    controls(c, 'unset', () => [p.tokenFields ? tokenForm(p, c) : null, p.canLink ? linkBlock(p, c) : null]);
    return c.el;
  }

  /** Shows a result in the card's box, coloured by its level. */
  function show(c, res) {
    notice(c.out, res.message, KIND[res.level] || 'ok');
    draw();
  }

  async function call(c, path, init) {
    try {
      show(c, await api(path, init));
    } catch (err) {
      notice(c.out, err.message, 'error');
    }
  }

  // Re-check, change the token, remove: what a set-up channel offers, connected or not.
  function actions(p, c) {
    const base = `/api/channels/${encodeURIComponent(p.name)}`;
    const form = p.tokenFields ? tokenForm(p, c) : null;
    if (form) form.hidden = true;
    const recheck = h('button', { type: 'button', class: 'recheck' }, 'Re-check');
    recheck.addEventListener('click', async () => {
      recheck.disabled = true;
      notice(c.out, `Connecting ${p.label}…`, 'info');
      await call(c, `${base}/check`, { method: 'POST' });
      recheck.disabled = false;
    });
    const buttons = [recheck];
    if (form) {
      buttons.push(
        h(
          'button',
          { type: 'button', class: 'edit', onclick: () => (form.hidden = !form.hidden) },
          `Change ${p.tokenFields.length > 1 ? 'settings' : 'token'}`,
        ),
        confirmButton('Remove', `Remove ${p.label}? Click again`, () => call(c, base, { method: 'DELETE' })),
      );
    }
    return [h('div.actions', buttons), form];
  }

  // The same check and .env file as "nanoclaw auth <name>". A set secret shows as set, never its value.
  function tokenForm(p, c) {
    const inputs = p.tokenFields.map((f) =>
      h('input', {
        name: f.key,
        type: f.secret ? 'password' : 'text',
        autocomplete: 'off',
        'aria-label': f.label,
        placeholder: f.set ? `${f.label} (set; type a new one to change it)` : f.label,
      }),
    );
    const button = h('button', { type: 'submit' }, 'Save');
    return h(
      'form.token-form',
      {
        id: `token-${p.name}`,
        onsubmit: async (ev) => {
          ev.preventDefault();
          button.disabled = true;
          notice(c.out, `Checking and connecting ${p.label}…`, 'info');
          try {
            const values = Object.fromEntries(inputs.map((i) => [i.name, i.value]));
            const res = await api(`/api/channels/${encodeURIComponent(p.name)}/token`, {
              method: 'POST',
              json: { values },
            });
            for (const i of inputs) i.value = '';
            show(c, res);
          } catch (err) {
            notice(c.out, err.message, 'error');
          } finally {
            button.disabled = false;
          }
        },
      },
      inputs,
      button,
    );
  }

  // Linking a device here: a QR code to scan, or a pairing code for a phone number.
  function linkBlock(p, c) {
    const help = p.linkHelp || {};
    const out = h('div.link-state', { id: `link-${p.name}` });
    const phone = h('input', {
      name: 'phone',
      type: 'tel',
      placeholder: '+44 7700 900123',
      'aria-label': 'Phone number with country code',
    });
    let qrUrl = null;
    let shownQr = null;
    async function poll() {
      let link;
      try {
        ({ link } = await api(`/api/channels/${encodeURIComponent(p.name)}/link`));
      } catch (err) {
        return notice(out, err.message, 'error');
      }
      if (link.state === 'linked' || link.state === 'failed') stopPolling();
      // The end of it goes in the card's result box: once linked, the card shows its actions instead of this block.
      if (link.state === 'failed') return notice(c.out, link.problem || 'Linking failed.', 'error');
      if (link.state === 'linked') return (put(out), show(c, { level: link.level || 'ok', message: link.message }));
      // Linked: the host is starting it with the new link, and says next whether it connected.
      if (link.state === 'connecting') return (put(out), notice(c.out, link.message, 'info'));
      const parts = [link.problem ? h('p.small.muted', link.problem) : null];
      if (link.pairingCode)
        parts.push(h('p', help.pairingCode || PAIRING_HELP), h('code.pairing-code', link.pairingCode));
      else if (link.qr) {
        if (shownQr !== link.qrVersion || !qrUrl) {
          shownQr = link.qrVersion;
          try {
            const res = await api(`/api/channels/${encodeURIComponent(p.name)}/link/qr.svg`, { raw: true });
            if (qrUrl) URL.revokeObjectURL(qrUrl);
            qrUrl = URL.createObjectURL(new Blob([await res.text()], { type: 'image/svg+xml' }));
          } catch (err) {
            return notice(out, `Could not show the QR code: ${err.message}`, 'error');
          }
        }
        parts.push(
          h('img', { src: qrUrl, alt: `QR code to link ${p.label}`, width: 264, height: 264 }),
          h('p.small', help.qr || QR_HELP),
        );
      } else parts.push(h('p.small.muted', 'Asking for a code…'));
      put(out, parts);
    }
    let timer = null;
    function stopPolling() {
      clearInterval(timer);
      timers.delete(timer);
    }
    async function start(json) {
      try {
        await api(`/api/channels/${encodeURIComponent(p.name)}/link`, { method: 'POST', json });
      } catch (err) {
        return notice(out, err.message, 'error');
      }
      stopPolling();
      timer = setInterval(poll, 1500);
      timers.add(timer);
      poll();
    }
    return h(
      'div.link',
      h('button', { type: 'button', id: `link-qr-${p.name}`, onclick: () => start({}) }, 'Link with a QR code'),
      h(
        'form.pairing-form',
        {
          onsubmit: (ev) => {
            ev.preventDefault();
            start({ phone: phone.value });
          },
        },
        phone,
        h('button', { type: 'submit' }, 'Get a pairing code'),
      ),
      out,
    );
  }

  async function qrBlock(name, qr, help) {
    let cached = qrCache.get(name);
    if (!cached || cached.qr !== qr) {
      try {
        const res = await api(`/api/channels/${encodeURIComponent(name)}/qr.svg`, { raw: true });
        const url = URL.createObjectURL(new Blob([await res.text()], { type: 'image/svg+xml' }));
        if (cached) URL.revokeObjectURL(cached.url);
        cached = { qr, url };
        qrCache.set(name, cached);
      } catch (err) {
        return h('p.notice.error', `Could not show the QR code: ${err.message}`);
      }
    }
    return h(
      'div.qr',
      h('img', { src: cached.url, alt: `QR code to link ${name}`, id: `qr-${name}`, width: 264, height: 264 }),
      h('p.small', help),
    );
  }

  loadCounts();
  const stop = every(2000, draw);
  const countsTimer = setInterval(loadCounts, 15_000);
  return () => {
    stop();
    clearInterval(countsTimer);
    for (const t of timers) clearInterval(t);
    for (const c of qrCache.values()) URL.revokeObjectURL(c.url);
  };
}
