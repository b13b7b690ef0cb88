// Telegram chat ids as NanoClaw writes them: `tg:<chat id>`. Private chats have
// the user's own (positive) id; groups and supergroups negative ones.
export function telegramJid(chatId: number | string): string {
  return `tg:${chatId}`;
}

/** The numeric chat id in a `tg:` jid, or null if the jid is not Telegram's. */
export function telegramChatId(jid: string): string | null {
  return /^tg:(-?\d+)$/.exec(jid)?.[1] ?? null;
}

export function isTelegramDirectChat(jid: string): boolean {
  const id = telegramChatId(jid);
  return id !== null && !id.startsWith('-');
}
