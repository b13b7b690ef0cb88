// The built-in local channel, fed by the API: its history is the store, so sending is delivery's recording.
import crypto from 'node:crypto';
import type { Channel, Message } from '../../types.js';

export const ownsLocalJid = (jid: string) => jid.startsWith('local:');
export const isLocalJid = (jid: string) => /^local:[a-z0-9][a-z0-9_-]{0,63}$/.test(jid);

export interface LocalTyping {
  isTyping(jid: string): boolean;
  onTyping(listener: (jid: string, typing: boolean) => void): () => void;
}

export function createLocalChannel(): Channel & LocalTyping {
  let connected = false;
  const typing = new Set<string>();
  const listeners = new Set<(jid: string, typing: boolean) => void>();
  const mustBeLocal = async (jid: string) => {
    if (!isLocalJid(jid)) throw new Error(`"${jid}" is not a local chat id (expected local:<name>).`);
  };
  return {
    name: 'local',
    sharesUserAccount: false,
    ownsJid: ownsLocalJid,
    async connect(ev) {
      connected = true;
      ev.onState?.({ connected: true });
    },
    sendMessage: mustBeLocal,
    // Local clients read the chat history, which names the file.
    sendMedia: mustBeLocal,
    // The agent runs while the user waits: local clients show it as "typing…".
    async setTyping(jid, on) {
      if (on === typing.has(jid)) return;
      if (on) typing.add(jid);
      else typing.delete(jid);
      for (const l of listeners) l(jid, on);
    },
    isTyping: (jid) => typing.has(jid),
    onTyping(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    isConnected: () => connected,
    async disconnect() {
      connected = false;
    },
  };
}

// Only the owner holds the API token, so these senders are the owner; any other is a chat member.
export const OWNER_SENDERS = ['local-user', 'terminal', 'dashboard'];

export function localMessage(input: { chatJid: string; sender: string; senderName: string; text: string }): Message {
  return {
    ...input,
    id: `local-${Date.now().toString(36)}-${crypto.randomBytes(6).toString('hex')}`,
    timestamp: new Date().toISOString(),
    fromMe: OWNER_SENDERS.includes(input.sender),
    fromAssistant: false,
  };
}
