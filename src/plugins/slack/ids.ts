// Slack chat ids as NanoClaw writes them: `sl:<conversation id>`. Slack names
// a conversation by its first letter: C (public channel), G (private channel or
// group DM), D (a direct message with one person).
const SLACK_JID = /^sl:([CDG][A-Z0-9]{2,})$/;

export function slackJid(channelId: string): string {
  return `sl:${channelId}`;
}

/** The Slack conversation id in an `sl:` jid, or null if the jid is not Slack's. */
export function slackChannelId(jid: string): string | null {
  return SLACK_JID.exec(jid)?.[1] ?? null;
}

export function isSlackDirectChat(jid: string): boolean {
  return slackChannelId(jid)?.startsWith('D') ?? false;
}
