// The dashboard shell: sign-in, tabs, the live event stream, and the page that
// is showing. Each page is a module with render(root, ctx) → cleanup.
import { api, authEvents, openEventStream, token } from './api.js';
import { h, put } from './dom.js';

const PAGES = [
  ['chat', 'Chat'],
  ['groups', 'Groups'],
  ['tasks', 'Tasks'],
  ['approvals', 'Approvals'],
  ['activity', 'Activity'],
  ['usage', 'Usage'],
  ['channels', 'Channels'],
  ['logs', 'Logs'],
];

const view = document.getElementById('view');
const header = document.getElementById('top');
const tabs = document.getElementById('tabs');
const live = document.getElementById('live');

const listeners = new Set();
const typingListeners = new Set();
let stopStream = null;
let cleanup = null;
let routeSeq = 0;

const ctx = {
  status: null,
  /** Subscribe to new chat messages from the live stream. */
  onMessage(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  /** Subscribe to "the agent is at work in a chat" turning on and off ({ chatJid, typing }). */
  onTyping(fn) {
    typingListeners.add(fn);
    return () => typingListeners.delete(fn);
  },
  async refreshStatus() {
    ctx.status = await api('/api/status');
    document.getElementById('brand-name').textContent = ctx.status.assistantName || 'NanoClaw';
    return ctx.status;
  },
};

function takeTokenFromUrl() {
  // `nanoclaw start` prints http://127.0.0.1:PORT/#token=…; keep it out of history.
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return false;
  token.set(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + '#/chat');
  return true;
}

function signIn() {
  if (!token.get()) return showLogin();
  ctx.refreshStatus().then(showApp, (err) => {
    if (err.status === 401) token.clear();
    showLogin(
      err.status === 401
        ? 'The saved token was refused (it changes if data/api-token is recreated). Sign in again.'
        : err.message,
    );
  });
}

function showLogin(message) {
  stopStream?.();
  stopStream = null;
  cleanup?.();
  cleanup = null;
  header.hidden = true;
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: 'API token',
    required: true,
    'aria-label': 'API token',
  });
  const error = h('p.notice.error', { role: 'alert', hidden: !message }, message || '');
  const form = h(
    'form.login',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        token.set(input.value);
        error.hidden = true;
        try {
          await ctx.refreshStatus();
          showApp();
        } catch (err) {
          token.clear();
          error.textContent =
            err.status === 401
              ? 'That token was refused. Copy it again from data/api-token in the NanoClaw home.'
              : err.message;
          error.hidden = false;
        }
      },
    },
    h('img', { src: '/ui/icon.svg', alt: '', width: 48, height: 48 }),
    h('h1', 'NanoClaw'),
    h(
      'p.muted',
      'Paste the API token from ',
      h('code', 'data/api-token'),
      ' in your NanoClaw home, or open the link that ',
      h('code', 'nanoclaw start'),
      ' printed.',
    ),
    input,
    h('button.primary', { type: 'submit' }, 'Sign in'),
    error,
  );
  put(view, form);
  input.focus();
}

function showApp() {
  header.hidden = false;
  put(
    tabs,
    PAGES.map(([id, label]) => h('a.tab', { href: `#/${id}`, dataset: { page: id } }, label)),
  );
  if (!stopStream) {
    stopStream = openEventStream({
      onMessage: (m) => {
        for (const fn of listeners) fn(m);
      },
      onTyping: (t) => {
        for (const fn of typingListeners) fn(t);
      },
      onState: (on) => {
        live.textContent = on ? 'live' : 'offline';
        live.classList.toggle('on', on);
      },
    });
  }
  route();
}

async function route() {
  if (header.hidden) return;
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const page = PAGES.find(([id]) => id === name) ? name : 'chat';
  for (const a of tabs.children) a.classList.toggle('active', a.dataset.page === page);
  // On a phone the tab row scrolls sideways: keep the open page's tab in sight.
  tabs.querySelector('.active')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  cleanup?.();
  cleanup = null;
  const seq = ++routeSeq;
  const root = h('section.page', { id: `page-${page}`, 'aria-label': page });
  put(view, root);
  const mod = await import(`./pages/${page}.js`);
  if (seq !== routeSeq) return;
  cleanup = mod.render(root, ctx) || null;
}

document.getElementById('logout').addEventListener('click', () => {
  token.clear();
  showLogin();
});
authEvents.addEventListener('unauthorized', () => {
  if (header.hidden) return; // the sign-in form reports it itself
  token.clear();
  showLogin('The token was refused (it changes if data/api-token is recreated). Sign in again.');
});
window.addEventListener('hashchange', () => {
  if (takeTokenFromUrl()) signIn();
  else route();
});

takeTokenFromUrl();
signIn();
