// WhatsApp chat ids: people as `<number>@s.whatsapp.net` or `<lid>@lid`, groups as `<id>@g.us`.
export const WHATSAPP_JID_SUFFIXES = ['@s.whatsapp.net', '@g.us', '@lid'];

export function isWhatsAppJid(jid: string): boolean {
  return WHATSAPP_JID_SUFFIXES.some((sfx) => jid.endsWith(sfx));
}

export function isWhatsAppDirectChat(jid: string): boolean {
  return jid.endsWith('@s.whatsapp.net') || jid.endsWith('@lid');
}
