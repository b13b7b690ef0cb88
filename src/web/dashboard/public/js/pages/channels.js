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
      const state = ch.connected ? 'connected' : linking.qr || linking.pairingCode ? 'waiting to be linked' : 'disconnected';
      const c = counts.get(ch.name);
      const card = h(
        `article.card.channel.${ch.connected ? 'ok' : 'bad'}`,
        { dataset: { channel: ch.name } },
        h('div.card-head', h(`span.dot${ch.connected ? '.on' : ''}`), h('strong', ch.name), h('span.state', state)),
        ch.detail ? h('p.small', ch.detail) : null,
        c ? h('p.small.muted', `${c.registered} registered chat${c.registered === 1 ? '' : 's'}, ${c.seen} more seen`) : null,
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
                const { before, command, after } = p.setup;
                return h(
                  'article.card.channel.off',
                  { dataset: { channel: p.name } },
                  h('div.card-head', h('span.dot'), h('strong', p.label), h('span.state', 'not set up')),
                  h('p.small', before, h('code', command), after),
                );
              }),
            ),
          ]
        : null,
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
    for (const c of qrCache.values()) URL.revokeObjectURL(c.url);
  };
}
