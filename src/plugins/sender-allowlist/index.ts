// Who may call the assistant in which chat, and whether others' messages are kept as context or dropped
// (~/.config/nanoclaw/sender-allowlist.json, see allowlist.ts). The owner's own messages always count.
import type { Plugin } from '../../core/plugin.js';
import { loadSenderAllowlist } from './allowlist.js';

export const senderAllowlist: Plugin = {
  name: 'sender-allowlist',
  setup({ config }) {
    const list = loadSenderAllowlist(config.configDir);
    return {
      inbound: [{ name: 'sender-allowlist', keep: (msg) => msg.fromMe || list.keeps(msg.chatJid, msg.sender) }],
      canTrigger: (_group, msg) => list.canTrigger(msg.chatJid, msg.sender),
      problems: () => [list.problem()].filter((p) => p !== null),
    };
  },
};
