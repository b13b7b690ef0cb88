// Signal chat ids as NanoClaw writes them: `sig:+<number>` for a direct chat
// (the other person's phone number), `sig:g:<group id>` for a group (signal-cli's
// base64 group id).
const DIRECT = /^sig:(\+[1-9]\d{2,14})$/;
const GROUP = /^sig:g:([A-Za-z0-9+/=_-]+)$/;

export function signalDirectJid(number: string): string {
  return `sig:${number}`;
}

export function signalGroupJid(groupId: string): string {
  return `sig:g:${groupId}`;
}

/** Where a send to this chat goes: a phone number or a group id; null if the jid is not Signal's. */
export function signalTarget(jid: string): { recipient: string } | { groupId: string } | null {
  const direct = DIRECT.exec(jid)?.[1];
  if (direct) return { recipient: direct };
  const group = GROUP.exec(jid)?.[1];
  return group ? { groupId: group } : null;
}

export function isSignalJid(jid: string): boolean {
  return signalTarget(jid) !== null;
}

export function isSignalDirectChat(jid: string): boolean {
  return DIRECT.test(jid);
}

export function isSignalGroupChat(jid: string): boolean {
  return GROUP.test(jid);
}
