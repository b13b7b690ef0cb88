// The inbound steps on a real SQLite store, without a host: what becomes of a
// message (stored, offered a code, approved, enqueued, woken) and what the
// chats would see (the outbox).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ensureHome, homePaths } from '../../src/core/config/home.js';
import { registerGroup } from '../../src/core/groups/registration.js';
import { createInbound, MAX_INBOUND_TEXT, type InboundDecision, type Source } from '../../src/core/inbound/receive.js';
import { silentLogger } from '../../src/core/logger.js';
import { pairingStep } from '../../src/plugins/pairing/pairing.js';
import { CHANNELS } from '../../src/plugins/index.js';
import { createOwnerNotice } from '../../src/core/delivery/owner-notice.js';
import { ensureMainGroup } from '../../src/core/groups/registration.js';
import { openStore } from '../../src/host.js';
import { type Store } from '../../src/core/store/index.js';
import type { Message } from '../../src/core/types.js';

const TG: Source = { name: 'telegram', isLocal: false };
const LOCAL: Source = { name: 'local', isLocal: true };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup(opts: { live?: string[] } = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-inbound-'));
  const paths = homePaths(home);
  ensureHome(paths, 'Andy');
  const store = openStore(paths.db);
  cleanups.push(() => {
    store.close();
    fs.rmSync(home, { recursive: true, force: true });
  });
  ensureMainGroup({ store, paths, assistantName: 'Andy' });
  const enqueued: string[] = [];
  const woken: string[] = [];
  const routed: InboundDecision[] = [];
  const conversation = { store, timezone: 'UTC', assistantName: 'Andy', canTrigger: () => true };
  const logger = silentLogger();
  const inbound = createInbound({
    store,
    logger,
    conversation,
    // Pairing is the step under test here, as the host lists it.
    steps: [
      pairingStep({
        store,
        paths,
        assistantName: 'Andy',
        logger,
        notifyOwner: createOwnerNotice(store, []),
        conversation,
        plugins: CHANNELS,
      }),
    ],
    emit: () => {},
    wake: (jid) => {
      if (!opts.live?.includes(jid)) return false;
      woken.push(jid);
      return true;
    },
    enqueue: (jid) => {
      enqueued.push(jid);
    },
    onRouted: (_m, d) => {
      routed.push(d);
    },
  });
  let n = 0;
  const msg = (chatJid: string, text: string, extra: Partial<Message> = {}): Message => ({
    id: `m${++n}`,
    chatJid,
    sender: extra.sender ?? chatJid,
    senderName: 'Nora',
    text,
    timestamp: new Date().toISOString(),
    fromMe: false,
    fromAssistant: false,
    ...extra,
  });
  const outbox = (jid: string) =>
    store.outbox
      .pending()
      .filter((i) => i.chatJid === jid)
      .map((i) => i.text);
  return { store, paths, inbound, enqueued, woken, routed, msg, outbox };
}

const register = (
  s: { store: Store; paths: ReturnType<typeof homePaths> },
  jid: string,
  folder: string,
  requiresTrigger: boolean,
) => {
  const res = registerGroup(
    { store: s.store, paths: s.paths, assistantName: 'Andy' },
    { jid, name: folder, folder, requiresTrigger },
  );
  expect(res.ok).toBe(true);
};

test('a stranger in a direct chat gets one code, however often they write; the owner hears once', () => {
  const s = setup();
  expect(s.inbound.receive(s.msg('tg:5555', 'hello?'), TG).decision).toBe('pairing');
  expect(s.inbound.receive(s.msg('tg:5555', 'anyone there?'), TG).decision).toBe('pairing');
  const toStranger = s.outbox('tg:5555');
  expect(toStranger).toHaveLength(1);
  const code = /approve the code ([A-Z0-9]{6})/.exec(toStranger[0])![1];
  expect(s.outbox('local:main')).toEqual([expect.stringContaining(`Reply "approve ${code}"`)]);
  expect(s.store.pairing.pending().map((p) => p.chatJid)).toEqual(['tg:5555']);
  expect(s.enqueued).toEqual([]);
  // In a group (not a direct chat) a stranger is only stored.
  expect(s.inbound.receive(s.msg('tg:-100777', 'hi all'), TG).decision).toBe('stored');
  expect(s.outbox('tg:-100777')).toEqual([]);
});

test('an untriggered message in a trigger group is stored and not enqueued; a triggered one is, or wakes the live agent', () => {
  const s = setup({ live: [] });
  register(s, 'tg:-100200', 'family', true);
  const untriggered = s.inbound.receive(s.msg('tg:-100200', 'what is for dinner'), TG);
  expect(untriggered.decision).toBe('stored');
  expect(s.store.messages.after('tg:-100200', 0).map((m) => m.text)).toEqual(['what is for dinner']);
  expect(s.enqueued).toEqual([]);
  expect(s.inbound.receive(s.msg('tg:-100200', '@Andy what is for dinner?'), TG).decision).toBe('enqueued');
  expect(s.enqueued).toEqual(['tg:-100200']);

  const live = setup({ live: ['tg:-100200'] });
  register(live, 'tg:-100200', 'family', true);
  expect(live.inbound.receive(live.msg('tg:-100200', '@Andy and dessert?'), TG).decision).toBe('woke');
  expect(live.woken).toEqual(['tg:-100200']);
  expect(live.enqueued).toEqual([]);
});

test('"approve CODE" from a non-main chat is not honoured; from the main chat it registers the stranger', () => {
  const s = setup();
  s.inbound.receive(s.msg('tg:5555', 'hello?'), TG);
  const code = s.store.pairing.pending()[0].code;
  register(s, 'tg:6666', 'friend', false);
  // A registered friend's chat: an ordinary message for the agent, nothing approved.
  expect(s.inbound.receive(s.msg('tg:6666', `approve ${code}`), TG).decision).toBe('enqueued');
  expect(s.store.groups.get('tg:5555')).toBeUndefined();
  expect(s.store.pairing.pending().map((p) => p.code)).toEqual([code]);

  const fromMain = s.inbound.receive(
    s.msg('local:main', `approve ${code.toLowerCase()}`, { sender: 'owner', fromMe: true }),
    LOCAL,
  );
  expect(fromMain.decision).toBe('approved');
  expect(s.store.groups.get('tg:5555')?.folder).toBe('nora');
  expect(s.outbox('local:main')).toContain('Approved: Nora can now talk to me (folder nora).');
  expect(s.outbox('tg:5555')).toContain("You're approved — I'm Andy. How can I help?");
  // Answered in place of the agent: the main chat's cursor moved past it, nothing queued for it.
  expect(s.store.outbox.cursor('local:main')).toBe(fromMain.seq);
  expect(s.enqueued).toEqual(['tg:6666']);
});

test('malformed, duplicate and echoed messages are not routed; an oversized one is cut and stored', () => {
  const s = setup();
  expect(s.inbound.receive({ chatJid: 'local:main' } as unknown as Message, LOCAL)).toEqual({
    seq: null,
    decision: 'invalid',
  });
  const m = s.msg('local:main', 'hi', { fromMe: true });
  expect(s.inbound.receive(m, LOCAL).decision).toBe('enqueued');
  expect(s.inbound.receive(m, LOCAL)).toEqual({ seq: null, decision: 'duplicate' });
  // The platform's echo of a reply delivery already recorded.
  expect(s.inbound.receive(s.msg('tg:5555', 'Andy: hi', { fromAssistant: true, fromMe: true }), TG).decision).toBe(
    'dropped',
  );
  const big = s.inbound.receive(s.msg('local:main', 'x'.repeat(MAX_INBOUND_TEXT + 10), { fromMe: true }), LOCAL);
  expect(s.store.messages.after('local:main', big.seq! - 1)[0].text).toMatch(/\[message truncated: over 4 MB\]$/);
  expect(s.routed).toEqual(['invalid', 'enqueued', 'duplicate', 'dropped', 'enqueued']);
});

test('every committed outbox write tells its listener, after the transaction it ran in', async () => {
  const s = setup();
  const seen: number[] = [];
  s.store.outbox.onWrite(() => {
    seen.push(s.store.outbox.pending().length);
  });
  s.store.outbox.enqueue('local:main', 'one');
  expect(seen).toEqual([1]);
  s.store.outbox.commitTurn({ chatJid: 'local:main', upToSeq: 0, reply: 'two' });
  expect(seen).toEqual([1, 2]);
  s.store.outbox.commitTurn({ chatJid: 'local:main', upToSeq: 0 }); // no reply: nothing to send
  expect(seen).toEqual([1, 2]);
  s.store.db.transaction(() => {
    s.store.outbox.enqueue('local:main', 'three');
    s.store.outbox.enqueue('local:main', 'four');
  })();
  await Promise.resolve();
  expect(seen).toEqual([1, 2, 4, 4]);
});
