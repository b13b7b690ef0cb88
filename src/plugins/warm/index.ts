// Warm agents: a chat's agent waiting before it is needed (its session resumed, its memory read) for the chat's next
// message, so the first answer after a quiet spell skips the sandbox's and the CLI's start: one kept when it idles out,
// or one started for the main chat at start-up and for a chat someone writes in. At most
// NANOCLAW_WARM_AGENTS of them wait at once (default 2; 0 turns them off), and they are the first closed for a chat
// that needs a slot.
import { intSetting } from '../../core/config/config.js';
import { callsAssistant } from '../../core/conversation/conversation.js';
import type { Plugin } from '../../core/plugin.js';

/** How long after a chat's last message an agent is kept waiting for it. */
export const WARM_FOR_MS = 60 * 60_000;

export const warm: Plugin = {
  name: 'warm',
  setup({ config, store, queue, agents, conversation, subscribe, now = Date.now }) {
    const budget = intSetting(config.env, 'NANOCLAW_WARM_AGENTS', 2);
    if (budget <= 0) return;
    const lastSeen = new Map<string, number>(); // a chat's last message from someone
    const warmedAt = new Map<string, number>();
    let draining = false;
    // An agent that has waited since 0 never had a turn: a warm one.
    const warmOnes = () => [...agents].filter(([, a]) => a.idleSince === 0);
    const quiet = (jid: string) => now() - Math.max(lastSeen.get(jid) ?? 0, warmedAt.get(jid) ?? 0) > WARM_FOR_MS;
    const expire = () => {
      for (const [jid, a] of warmOnes()) if (quiet(jid)) a.close();
    };
    const tryWarm = (jid: string) => {
      expire();
      if (draining || agents.has(jid) || warmOnes().length >= budget || !store.groups.get(jid)) return;
      queue.warm(jid);
      if (agents.has(jid)) warmedAt.set(jid, now());
    };
    // Chatter in a group often comes before the message that calls the assistant.
    const unsubscribe = subscribe((m) => {
      const group = store.groups.get(m.chatJid);
      if (m.fromAssistant || !group) return;
      lastSeen.set(m.chatJid, now());
      // A message that calls the assistant starts its agent anyway.
      if (!callsAssistant(conversation, group, m)) tryWarm(m.chatJid);
    });
    const sweep = setInterval(expire, 60_000);
    sweep.unref();
    return {
      start() {
        const main = store.groups.list().find((g) => g.isMain);
        if (main) tryWarm(main.jid);
      },
      // An agent that idles out in a chat written in within the hour stays, warm: its next answer is a follow-up's.
      keepIdle({ jid }) {
        expire();
        return !draining && !quiet(jid) && warmOnes().length < budget;
      },
      afterRun({ jid }) {
        // Only a chat written in since its last warm agent started: one that waited and closed unused is not re-warmed.
        const seen = lastSeen.get(jid) ?? -1;
        // The queue frees the ended agent's slot just after this.
        if (!quiet(jid) && seen > (warmedAt.get(jid) ?? -1)) setImmediate(() => tryWarm(jid));
      },
      drain() {
        draining = true;
        unsubscribe();
        clearInterval(sweep);
      },
    };
  },
};
