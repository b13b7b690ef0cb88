// Small DOM and formatting helpers. Text always goes in as text nodes, never as
// HTML, so nothing a chat says can become markup on this page.

/** h('div.card', { onclick, title }, child, 'text', [more]) → element */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function put(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An SVG element (charts). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat())
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * Text with the status emoji the host writes (⚠️, ⏸️, ✅…) drawn as inline SVG
 * icons: without an emoji font they would show as empty boxes. Other emoji
 * (what people write) stay as they are.
 */
export function withIcons(text) {
  const out = [];
  let last = 0;
  text = String(text);
  for (const m of text.matchAll(/([⚠⏸⏳✅✔❌✖])\uFE0F?/gu)) {
    out.push(text.slice(last, m.index), icon(ICONS[m[1]], m[1]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((p) => p !== '');
}

const ICONS = { '⚠': 'warn', '⏸': 'pause', '⏳': 'wait', '✅': 'ok', '✔': 'ok', '❌': 'bad', '✖': 'bad' };
const PATHS = {
  warn: 'M8 1.5 15 14.5H1Z M8 6v4 M8 11.5v1.2',
  pause: 'M5 3v10 M11 3v10',
  wait: 'M3.5 1.5h9 M3.5 14.5h9 M4.5 1.5C4.5 6 11.5 6 11.5 8S4.5 10 4.5 14.5 M11.5 1.5C11.5 6 4.5 6 4.5 8s7 2 7 6.5',
  ok: 'M2.5 8.5 6.5 12.5 13.5 4',
  bad: 'M3.5 3.5l9 9 M12.5 3.5l-9 9',
};

/** A small inline icon, with its meaning for screen readers. */
export function icon(name, label = name) {
  return s(
    'svg',
    { class: `icon icon-${name}`, viewBox: '0 0 16 16', role: 'img', 'aria-label': label, width: 16, height: 16 },
    s('path', { d: PATHS[name] }),
  );
}

/** Every time the dashboard shows: "14:05" today, "Jun 3, 09:00" otherwise, in the browser's 12- or 24-hour format. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function fmtDuration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** "in 5 min" / "3 h ago" */
export function fmtRelative(iso) {
  if (!iso) return '';
  const diff = new Date(iso).getTime() - Date.now();
  if (!Number.isFinite(diff)) return '';
  const text = fmtDuration(Math.abs(diff)).replace(/ \d+s$/, '');
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

export function fmtTokens(n) {
  n = Number(n) || 0;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(n);
}

export function fmtUsd(n) {
  n = Number(n) || 0;
  return n > 0 && n < 0.01 ? '<$0.01' : `$${n.toFixed(2)}`;
}

export function channelOf(jid) {
  if (jid.startsWith('local:')) return 'local';
  if (jid.startsWith('tg:')) return 'telegram';
  if (/@(s\.whatsapp\.net|g\.us|lid)$/.test(jid)) return 'whatsapp';
  return jid.includes(':') ? jid.split(':')[0] : 'other';
}

export function slug(text) {
  return (
    String(text)
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'group'
  );
}

/** A one-line notice at the top of a page; errors stay until replaced. */
export function notice(el, text, kind = 'ok') {
  put(el, text ? h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, text) : null);
}

/** A button that asks to be clicked twice before doing something destructive. */
export function confirmButton(label, confirmLabel, action) {
  let armed = false;
  let timer = null;
  const btn = h('button.danger', { type: 'button' }, label);
  btn.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmLabel;
      btn.classList.add('armed');
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = label;
        btn.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(timer);
    btn.disabled = true;
    try {
      await action();
    } finally {
      btn.disabled = false;
      armed = false;
      btn.textContent = label;
      btn.classList.remove('armed');
    }
  });
  return btn;
}

/** Runs `fn` now and every `ms` until the returned stop function is called. */
export function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch {
      /* the page shows its own errors */
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
