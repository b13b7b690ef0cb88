// Discord chat ids as NanoClaw writes them: `dc:<channel id>` for a server
// channel or thread (each thread is its own chat), `dc:dm:<user id>` for a
// direct chat. A direct chat is named by the person, not by its channel, so
// the owner's main chat says who the owner is.
const SNOWFLAKE = /^\d{15,21}$/;

export function discordChannelJid(channelId: string): string {
  return `dc:${channelId}`;
}

export function discordDmJid(userId: string): string {
  return `dc:dm:${userId}`;
}

export type DiscordTarget = { kind: 'channel'; channelId: string } | { kind: 'dm'; userId: string };

/** Where a `dc:` jid points, or null if the jid is not Discord's. */
export function discordTarget(jid: string): DiscordTarget | null {
  const dm = /^dc:dm:(\d+)$/.exec(jid)?.[1];
  if (dm && SNOWFLAKE.test(dm)) return { kind: 'dm', userId: dm };
  const channel = /^dc:(\d+)$/.exec(jid)?.[1];
  if (channel && SNOWFLAKE.test(channel)) return { kind: 'channel', channelId: channel };
  return null;
}

export function isDiscordJid(jid: string): boolean {
  return discordTarget(jid) !== null;
}

export function isDiscordDirectChat(jid: string): boolean {
  return discordTarget(jid)?.kind === 'dm';
}
