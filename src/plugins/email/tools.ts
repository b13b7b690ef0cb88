// The agent's email tools, run on the host behind the gateway: the sandbox sends arguments, never sees
// the account. Sending is declared with the approval kind email_send, so the owner's yes (by default)
// comes before the handler runs, and the approval shows exactly the draft that will go out.
import * as defs from './definitions.js';
import type { ToolAnswer } from '../../../runner/protocol.js';
import { ok, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import type { Identity } from '../../core/conversation/turn.js';
import { MediaRefused, MediaTooLarge, type MediaStore } from '../../core/channels/plugin.js';
import { describeFailure } from './account.js';
import {
  archiveMail,
  describeDraft,
  draftMail,
  forwardMail,
  mailAttachment,
  markMail,
  readMail,
  searchMail,
  sendDraft,
} from './mailbox.js';
import { formatSize, oneLine } from './text.js';
import { memoryDrafts, memoryRecipients, type DraftStore, type RecipientStore } from './store.js';
import type { ApprovalKind, ApprovalMode } from '../../core/types.js';
import type { EmailSettings } from './settings.js';

export interface EmailToolDeps {
  /** The account, or why there is none (not set up, or a setting is wrong). */
  settings(): EmailSettings | { problem: string };
  /** Each server answer, for status: null when it worked. */
  noteLogin(problem: { problem: string; fix: string } | null): void;
  /** Where drafts are kept until sent: the host's store, so they survive a restart (in memory when not given). */
  drafts?: DraftStore;
  /** Whom the owner has written to (in memory when not given). */
  recipients?: RecipientStore;
  /** The chat's mode for an approval kind; decides which kind a send is asked under. */
  modeOf?(identity: Identity, kind: ApprovalKind): ApprovalMode;
  /** Folders besides main whose chats the owner turned email on for (EMAIL_CHATS). */
  chats?(): ReadonlySet<string>;
  /** Where a chat's files go (its inbox/ folder); without it, attachments cannot be saved. */
  files?: MediaStore;
}

/** As large as a mail read whole may be: an attachment cannot be larger. */
const ATTACHMENT_MAX_BYTES = 15 * 1024 * 1024;

export const NOT_SET_UP =
  'Email is not set up on this assistant: the owner can connect an account with "nanoclaw auth email".';

/** The owner's mail is the main chat's, unless the owner turned email on for another chat by its folder. */
function onlyWhereOn(t: HostTool, chats: () => ReadonlySet<string>): HostTool {
  const on = (identity: Identity) => identity.isMain || chats().has(identity.groupFolder);
  return {
    ...t,
    // Checked before the approval too, so the owner is never asked for a chat that may not send at all.
    approval: t.approval && ((identity, args) => (on(identity) ? t.approval!(identity, args) : null)),
    handle: (identity, args) =>
      on(identity)
        ? t.handle(identity, args)
        : refuse(
            `Email is off for this chat: only the main chat reads the owner's mail, unless the owner adds "${identity.groupFolder}" to EMAIL_CHATS in NanoClaw's .env.`,
          ),
  };
}

export function createEmailTools(deps: EmailToolDeps): HostTool[] {
  // Drafts as composed, by id: email_send sends these bytes, the ones the owner was shown.
  const drafts = deps.drafts ?? memoryDrafts();
  const recipients = deps.recipients ?? memoryRecipients();
  const STRICT: Record<ApprovalMode, number> = { allow: 0, ask: 1, deny: 2 };

  const run = async (fn: (s: EmailSettings) => Promise<string>): Promise<ToolAnswer> => {
    const s = deps.settings();
    if ('problem' in s) return refuse(s.problem);
    try {
      const text = await fn(s);
      deps.noteLogin(null);
      return ok(text);
    } catch (err) {
      const e = err as { code?: string; authenticationFailed?: boolean; responseCode?: number };
      // A server or login failure is said with its fix; anything else is the tool's own refusal.
      if (e.code || e.authenticationFailed || e.responseCode) {
        const which = e.responseCode || e.code === 'EAUTH' || e.code === 'EENVELOPE' ? 'SMTP' : 'IMAP';
        const p = describeFailure(s, which, err);
        if (e.authenticationFailed || e.code === 'EAUTH' || e.code?.startsWith('ECONN')) deps.noteLogin(p);
        return refuse(`${p.problem} ${p.fix}`);
      }
      return refuse((err as Error).message);
    }
  };

  return [
    tool(defs.emailSearch, (_identity, a) =>
      run((s) =>
        searchMail(s, {
          words: a.words,
          from: a.from,
          since: a.since,
          until: a.until,
          unread: a.unread,
          folder: a.folder,
          limit: a.limit,
        }),
      ),
    ),
    tool(defs.emailRead, (_identity, a) => run((s) => readMail(s, a.id))),
    tool(defs.emailSaveAttachment, (identity, a) =>
      run(async (s) => {
        const inbox = deps.files?.inboxDirFor(identity.chatJid);
        if (!deps.files || !inbox) throw new Error('This chat has no folder to save files in.');
        const file = await mailAttachment(s, a.id, a.attachment);
        try {
          const saved = await deps.files.save(inbox, {
            mimeType: file.mimeType,
            fileName: file.fileName,
            open: async () => file.content,
            maxBytes: ATTACHMENT_MAX_BYTES,
          });
          return `Saved "${oneLine(file.fileName, 120)}" (${file.mimeType}, ${formatSize(file.content.length)}) as ${saved} in this chat's folder.`;
        } catch (err) {
          if (err instanceof MediaTooLarge)
            throw new Error(`The attachment is larger than ${formatSize(ATTACHMENT_MAX_BYTES)}; it was not saved.`);
          if (err instanceof MediaRefused)
            throw new Error("The attachment was not saved: this chat's inbox/ is not a plain folder.");
          throw err;
        }
      }),
    ),
    tool(defs.emailDraft, (_identity, a) =>
      run(async (s) => {
        const d = await draftMail(s, { to: a.to, cc: a.cc, subject: a.subject, body: a.body, replyTo: a.reply_to });
        drafts.put(d);
        return `Draft ${d.id} saved${d.saved ? ` to ${d.saved.folder}` : ''}. Send it with email_send and draft_id "${d.id}" (the owner is asked first):\n${describeDraft(d)}`;
      }),
    ),
    tool(defs.emailForward, (_identity, a) =>
      run(async (s) => {
        const d = await forwardMail(s, { id: a.id, to: a.to, note: a.note });
        drafts.put(d);
        return `Draft ${d.id} saved${d.saved ? ` to ${d.saved.folder}` : ''}. Send it with email_send and draft_id "${d.id}" (the owner is asked first):\n${describeDraft(d)}`;
      }),
    ),
    tool(
      defs.emailSend,
      async (_identity, a) => {
        const s = deps.settings();
        if ('problem' in s) return refuse(s.problem);
        const d = drafts.get(a.draft_id);
        // Taken before sending, so a second call for the same draft cannot send it twice.
        if (!d || !drafts.take(d.id))
          return refuse(`There is no draft "${a.draft_id}" (already sent?): make it again with email_draft.`);
        const answer = await run((s) => sendDraft(s, d));
        if (!answer.ok) drafts.put(d);
        else recipients.add([...d.to, ...d.cc]);
        return answer;
      },
      {
        approval: (identity, a) => {
          const d = drafts.get(a.draft_id);
          if (!d) return null;
          const all = [...d.to, ...d.cc];
          const fresh = all.filter((x) => !recipients.known(x));
          // A forward, or a first mail to someone, is asked under its own kind too; the strictest setting decides.
          const kinds: ApprovalKind[] = ['email_send'];
          if (d.forwards) kinds.push('email_forward');
          if (fresh.length) kinds.push('email_new_recipient');
          const mode = (k: ApprovalKind) => STRICT[deps.modeOf?.(identity, k) ?? 'ask'];
          const kind = kinds.reduce((a, b) => (mode(b) > mode(a) ? b : a));
          return {
            kind,
            detail: describeDraft(d),
            what: `send an email to ${all.join(', ').slice(0, 200)}${fresh.length ? ` (never written to before: ${fresh.join(', ').slice(0, 200)})` : ''}`,
          };
        },
      },
    ),
    tool(defs.emailMark, (_identity, a) => run((s) => markMail(s, a.id, a.read))),
    tool(defs.emailArchive, (_identity, a) => run((s) => archiveMail(s, a.id))),
  ].map((t) => onlyWhereOn(t, deps.chats ?? (() => new Set())));
}
