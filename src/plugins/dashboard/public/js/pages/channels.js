// Channels: connection state per chat platform, and linking one from the page:
// the QR code (drawn by the host as an SVG) or the pairing code. Which
// platforms exist, how to set each up and how to link it come from the host's
// channel plugins (status.plugins).
import { api } from '../api.js';
import { channelOf, every, h, notice, put } from '../dom.js';

const QR_HELP = 'Scan this code with the app on your phone. It refreshes every few seconds until linked.';
const PAIRING_HELP = 'Enter this code in the app on your phone:';

export function render(root, ctx) {
  const msg = h('div');
  const list = h('div.cards', { id: 'channels' });
  const extra = h('div');
  const qrCache = new Map(); // channel → { qr, url }
  const setupCards = new Map(); // plugin → its card, kept across redraws so a half-typed form survives
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
    const cards = [];
    for (const ch of status.channels) {
      const help = plugins.get(ch.name)?.linkHelp || {};
      const linking = ch.linking || {};
      const state = ch.connected
        ? 'connected'
        : linking.qr || linking.pairingCode
          ? 'waiting to be linked'
          : 'disconnected';
      const c = counts.get(ch.name);
      const card = h(
        `article.card.channel.${ch.connected ? 'ok' : 'bad'}`,
        { dataset: { channel: ch.name } },
        h('div.card-head', h(`span.dot${ch.connected ? '.on' : ''}`), h('strong', ch.name), h('span.state', state)),
        ch.detail ? h('p.small', ch.detail) : null,
        c
          ? h('p.small.muted', `${c.registered} registered chat${c.registered === 1 ? '' : 's'}, ${c.seen} more seen`)
          : null,
      );
      if (linking.pairingCode) {
        card.append(
          h(
            'div.pairing',
            h('p', help.pairingCode || PAIRING_HELP),
            h('code.pairing-code', { id: `pairing-${ch.name}` }, linking.pairingCode),
          ),
        );
      }
      if (linking.qr) card.append(await qrBlock(ch.name, linking.qr, help.qr || QR_HELP));
      cards.push(card);
    }
    put(list, cards);
    const missing = [...plugins.values()].filter((p) => p.setup && !status.channels.some((c) => c.name === p.name));
    put(
      extra,
      missing.length
        ? [
            h('h2', 'Not set up'),
            h(
              'div.cards',
              missing.map((p) => {
                if (!setupCards.has(p.name)) setupCards.set(p.name, setupCard(p));
                return setupCards.get(p.name);
              }),
            ),
          ]
        : null,
    );
  }

  function setupCard(p) {
    const { before, command, after } = p.setup;
    return h(
      'article.card.channel.off',
      { dataset: { channel: p.name } },
      h('div.card-head', h('span.dot'), h('strong', p.label), h('span.state', 'not set up')),
      h('p.small', before, h('code', command), after),
      p.tokenFields ? tokenForm(p) : null,
      p.canLink ? linkBlock(p) : null,
    );
  }

  // The same check and .env file as "nanoclaw auth <name>".
  function tokenForm(p) {
    const out = h('div.form-msg');
    const inputs = p.tokenFields.map((f) =>
      h('input', {
        name: f.key,
        type: f.secret ? 'password' : 'text',
        autocomplete: 'off',
        'aria-label': f.label,
        placeholder: f.label,
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
          try {
            const values = Object.fromEntries(inputs.map((i) => [i.name, i.value]));
            const res = await api(`/api/channels/${encodeURIComponent(p.name)}/token`, {
              method: 'POST',
              json: { values },
            });
            for (const i of inputs) i.value = '';
            notice(out, res.message);
          } catch (err) {
            notice(out, err.message, 'error');
          } finally {
            button.disabled = false;
          }
        },
      },
      inputs,
      button,
      out,
    );
  }

  // Linking a device here: a QR code to scan, or a pairing code for a phone number.
  function linkBlock(p) {
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
      if (link.state === 'failed') return notice(out, link.problem || 'Linking failed.', 'error');
      if (link.state === 'linked') return notice(out, link.message);
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
