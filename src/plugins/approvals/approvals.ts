// "Ask me first": an action a group's settings say to ask about is held while
// the owner is asked in the main chat, and goes ahead only on the owner's yes.
// The host decides everything here: the runner's and the proxy's callers only
// learn the outcome. A request ends once (store/approvals.ts); no answer within
// the timeout, or a restart while waiting, means no. One chat cannot bury the
// owner: at most MAX_WAITING_PER_CHAT wait, an identical request joins the one
// waiting, more are refused at once (the owner gets one line per burst), and
// after a "no" the chat waits before it may ask again.
import fs from 'node:fs';
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../../core/config/home.js';
import type { Identity } from '../../core/gateway/gateway.js';
import type { Logger } from '../../core/logger.js';
import { INSIDE } from '../../core/sandbox/mounts.js';
import type { ApprovalRequest } from './store.js';
import type { Store } from '../../core/store/index.js';
import type { ApprovalKind, Message, MessageButton, RegisteredGroup } from '../../core/types.js';
import { kindWords, modeFor, type Action, type Outcome } from '../../core/ask.js';

export { APPROVAL_KINDS, APPROVAL_MODES, modeFor, type Action, type Outcome } from '../../core/ask.js';

declare module '../../core/types.js' {
  interface ApprovalSettings {
    /** A bash command containing one of these counts as the `bash` kind. */
    bashPatterns?: string[];
    /** Exact actions the owner answered "always" to. */
    allow?: { kind: ApprovalKind; detail: string }[];
  }
}

export const DEFAULT_APPROVAL_TIMEOUT_MS = 10 * 60_000;

/** NANOCLAW_APPROVAL_TIMEOUT_MS: how long a request waits for the owner (default 10 min). */
export function approvalTimeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const n = Number(env.NANOCLAW_APPROVAL_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_APPROVAL_TIMEOUT_MS;
}
/** At most this many requests from one chat wait for the owner at once; more are refused without asking. */
export const MAX_WAITING_PER_CHAT = 3;
/** After a "no" (or no answer), a chat waits this long before it may ask again; each further "no" doubles it. */
export const DEFAULT_APPROVAL_COOLDOWN_MS = 30_000;
const MAX_COOLDOWN_MS = 10 * 60_000;
/** A "no" older than this is forgotten: the next one starts the wait from the beginning again. */
const STRIKE_MEMORY_MS = 60 * 60_000;
/** Refusals made without asking are told to the owner in one message per chat this long after the first. */
export const DEFAULT_REFUSAL_SUMMARY_MS = 5_000;

/** NANOCLAW_APPROVAL_COOLDOWN_MS: the first wait after a "no" (default 30 s; 0: none). */
export function approvalCooldownMs(env: Readonly<Record<string, string | undefined>>): number {
  const n = Number(env.NANOCLAW_APPROVAL_COOLDOWN_MS);
  const given = env.NANOCLAW_APPROVAL_COOLDOWN_MS !== undefined && Number.isInteger(n) && n >= 0;
  return given ? n : DEFAULT_APPROVAL_COOLDOWN_MS;
}
/** Longer than this, the action goes to a file instead of the chat: a chat preview must never be cut. */
export const MAX_INLINE_DETAIL = 500;

/** "yes 4F7K", "no 4F7K", "always 4F7K" (any case, a trailing . or !). */
export const ANSWER_PATTERN = /^\s*(yes|no|always)\s+([A-Za-z0-9]{4})\s*[.!]?\s*$/i;

export type Verb = 'yes' | 'no' | 'always';
export interface ApprovalsDeps {
  store: Store;
  paths: HomePaths;
  logger: Logger;
  timeoutMs: number;
  /** The first wait after a "no" before the chat may ask again (default 30 s; 0: none). */
  cooldownMs?: number;
  /** How long refusals made without asking are gathered into one message to the owner (default 5 s). */
  summaryMs?: number;
  now?: () => number;
  /** Sent to the owner's main chat; buttons where its chat app shows them. */
  postToMain?(text: string, opts: { buttons: MessageButton[] }): void;
}

/** A button's action names the request it answers, never just its code: `ap:<request id>:<verb>`. */
const BUTTON_ACTION = /^ap:(apr-[0-9a-f]{12}):(yes|no|always)$/;

/** "Yes, once" / "Always" / "No" under a request, bound to it (well within Telegram's 64 bytes). */
export function approvalButtons(requestId: string): MessageButton[] {
  return [
    { label: 'Yes, once', action: `ap:${requestId}:yes` },
    { label: 'Always', action: `ap:${requestId}:always` },
    { label: 'No', action: `ap:${requestId}:no` },
  ];
}

/** The request and answer a button stands for; null for any other action. */
export function parseButtonAction(action: string): { id: string; verb: Verb } | null {
  const m = BUTTON_ACTION.exec(action);
  return m ? { id: m[1]!, verb: m[2] as Verb } : null;
}

/** Did the owner answer "always" to exactly this? */
export function alwaysAllowed(
  group: Pick<RegisteredGroup, 'sandbox'>,
  action: Pick<Action, 'kind' | 'detail'>,
): boolean {
  return !!group.sandbox.approvals?.allow?.some((r) => r.kind === action.kind && r.detail === action.detail);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Does a Bash command contain one of the owner's patterns as whole words ("rm" matches "rm -rf x", not "format")? */
export function matchesBashPattern(command: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const words = p.trim().split(/\s+/).filter(Boolean).map(escapeRegExp);
    return words.length > 0 && new RegExp(`(^|[^\\w-])${words.join('\\s+')}($|[^\\w-])`).test(command);
  });
}

/** mount_write = ask: host folders are staged (src/sandbox/staging.ts) and their change sets asked about. */
const stagedWrites = (group: RegisteredGroup) => modeFor(group, 'mount_write') === 'ask';

/** Which of the runner's built-in tool calls need the owner; null: none of the kinds. */
export function classifyRunnerTool(group: RegisteredGroup, toolName: string, input: any): Action | null {
  if (toolName === 'Bash') {
    const command = typeof input?.command === 'string' ? input.command : '';
    const reason = str(input?.description);
    if (matchesBashPattern(command, group.sandbox.approvals?.bashPatterns ?? []))
      return { kind: 'bash', detail: command, what: 'run a Bash command', reason };
    // A command that names a host folder may write to it: asked about like a Write there (a tripwire, not a wall).
    // On "ask" the sandbox only has a staged copy, and the owner is asked about what it actually changed instead.
    const writable = group.sandbox.extraMounts?.some((m) => m.readonly === false) && !stagedWrites(group);
    if (writable && command.includes(INSIDE.extra))
      return { kind: 'mount_write', detail: command, what: 'run a Bash command on a host folder', reason };
    return null;
  }
  if (['Write', 'Edit', 'MultiEdit', 'NotebookEdit'].includes(toolName)) {
    const given = str(input?.file_path) ?? str(input?.notebook_path) ?? '';
    const full = path.posix.resolve('/workspace/group', given);
    if (full !== INSIDE.extra && !full.startsWith(INSIDE.extra + '/')) return null;
    if (stagedWrites(group)) return null;
    return { kind: 'mount_write', detail: `${toolName} ${full}`, what: `write ${full}` };
  }
  return null;
}

/** How a request that no longer waits ended, for whoever tries to answer it. */
function endedText(req: ApprovalRequest): string {
  if (req.status === 'expired') return 'Timed out: no answer came in time, so it was a no.';
  const how = req.status === 'approved' ? 'approved' : 'declined';
  return `Already answered: ${how} by ${req.decidedBy ?? 'someone'}${req.note && req.note !== 'always' ? ` (${req.note})` : ''}.`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);

/** Identical requests (same chat, kind and action) are one request: asked once, answered once for all. */
const sameRequestKey = (chatJid: string, action: Pick<Action, 'kind' | 'detail'>) =>
  `${chatJid}\n${action.kind}\n${action.detail}`;

type Refused = { full: number; cooldown: number; own: string[]; timer: NodeJS.Timeout };

export function createApprovals(deps: ApprovalsDeps) {
  const { store } = deps;
  const now = deps.now ?? Date.now;
  const cooldownMs = deps.cooldownMs ?? DEFAULT_APPROVAL_COOLDOWN_MS;
  type Waiter = { resolve(o: Outcome): void; timer: NodeJS.Timeout; chatJid: string; key: string; createdAt: number };
  const waiters = new Map<string, Waiter>();
  /** What waits, by sameRequestKey: a second identical request joins the first. */
  const inflight = new Map<string, Promise<Outcome>>();
  /** Per chat: the owner's recent "no"s, and until when it may not ask. */
  const strikes = new Map<string, { count: number; lastAt: number; until: number }>();
  /** Per chat: what was refused without asking since the owner was last told. */
  const refused = new Map<string, Refused>();

  const settle = (id: string, outcome: Outcome) => {
    const w = waiters.get(id);
    if (!w) return;
    waiters.delete(id);
    inflight.delete(w.key);
    clearTimeout(w.timer);
    w.resolve(outcome);
  };

  const waitingFor = (chatJid: string) => [...waiters.values()].filter((w) => w.chatJid === chatJid).length;

  /** A "no" or a timeout: the chat waits before asking again, longer each time it kept asking after one. */
  function strike(id: string): void {
    const w = waiters.get(id);
    if (!w || cooldownMs <= 0) return;
    const t = now();
    const s = strikes.get(w.chatJid);
    // Requests that already waited when the owner last said no were not asking after it: one strike for them all.
    if (s && w.createdAt <= s.lastAt) return;
    const count = s && t - s.lastAt < STRIKE_MEMORY_MS ? s.count + 1 : 1;
    strikes.set(w.chatJid, { count, lastAt: t, until: t + Math.min(MAX_COOLDOWN_MS, cooldownMs * 2 ** (count - 1)) });
  }

  /** Counts a refusal made without asking; the owner hears of them in one message per chat, not one each. */
  function noteRefused(group: RegisteredGroup, what: { why: 'full' | 'cooldown' } | { own: string }): void {
    let r = refused.get(group.jid);
    if (!r) {
      const timer = setTimeout(() => tellRefused(group), deps.summaryMs ?? DEFAULT_REFUSAL_SUMMARY_MS);
      timer.unref?.();
      r = { full: 0, cooldown: 0, own: [], timer };
      refused.set(group.jid, r);
    }
    if ('own' in what) {
      if (!r.own.includes(what.own)) r.own.push(what.own);
    } else r[what.why]++;
  }

  function tellRefused(group: RegisteredGroup): void {
    const r = refused.get(group.jid);
    refused.delete(group.jid);
    if (!r) return;
    const n = r.full + r.cooldown;
    const parts: string[] = [];
    if (n) {
      const why = [
        r.full ? `${r.full} while ${MAX_WAITING_PER_CHAT} already waited for you` : '',
        r.cooldown ? `${r.cooldown} too soon after your "no"` : '',
      ].filter(Boolean);
      const requests = `${n} more request${n === 1 ? '' : 's'}`;
      parts.push(`Refused without asking you: ${requests} from the agent in "${group.name}" (${why.join(', ')}).`);
    }
    if (r.own.length) {
      const shown = r.own.slice(0, 5).join(', ') + (r.own.length > 5 ? ` and ${r.own.length - 5} more` : '');
      parts.push(
        `The agent in "${group.name}" tried to reach your own machine or network (${shown}); ` +
          'refused without asking you, ' +
          `since an answer can never allow that. To allow an address, add it to ${group.name}'s network allowlist ` +
          `(dashboard → Groups → Settings, "nanoclaw groups network ${group.folder} --allow <ip:port>", or the API).`,
      );
    }
    try {
      postToMain(parts.join(' '), []);
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, group: group.folder }, 'could not tell the owner of refusals');
    }
  }

  /** The action as the owner sees it: whole in the chat, or whole in a file the chat names. Never cut. */
  function showDetail(req: ApprovalRequest): string {
    if (req.detail.length <= MAX_INLINE_DETAIL) return req.detail;
    const dir = path.join(resolveGroupFolder(deps.paths, 'main'), 'approvals');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${req.id}.txt`), req.detail, { mode: 0o600 });
    return `(${req.detail.length} characters, too long to show here: the whole text is in groups/main/approvals/${req.id}.txt and on the dashboard under Approvals; nothing of it is shown cut.)`;
  }

  function ownerText(req: ApprovalRequest, group: RegisteredGroup, reason: string | undefined): string {
    return [
      `Approval needed (code ${req.code}): the agent in "${group.name}" (folder ${group.folder}) wants to ${kindWords(req.kind as ApprovalKind)}:`,
      showDetail(req),
      `sha256 ${req.detailHash.slice(0, 16)}`,
      `Why: ${reason?.trim() ? reason.trim().slice(0, 500) : '(the agent gave no reason)'}`,
      `Answer "yes ${req.code}" (this once), "always ${req.code}" (always allow exactly this for ${group.name}) or "no ${req.code}". No answer in ${minutes(deps.timeoutMs)} means no.`,
    ].join('\n');
  }

  function postToMain(text: string, buttons: MessageButton[]): boolean {
    if (deps.postToMain) {
      deps.postToMain(text, { buttons });
      return true;
    }
    const main = store.groups.main();
    if (!main) return false;
    store.outbox.enqueue(main.jid, text, { kind: 'system', buttons });
    return true;
  }

  function addAllowRule(req: ApprovalRequest): void {
    const group = store.groups.get(req.chatJid);
    if (!group) return;
    const approvals = group.sandbox.approvals ?? {};
    const allow = [...(approvals.allow ?? []), { kind: req.kind as ApprovalKind, detail: req.detail }];
    store.groups.update({ ...group, sandbox: { ...group.sandbox, approvals: { ...approvals, allow } } });
  }

  function decideRequest(
    req: ApprovalRequest,
    verb: Verb,
    decidedBy: string,
  ): { ok: boolean; text: string; request?: ApprovalRequest } {
    const status = verb === 'no' ? 'denied' : 'approved';
    const decide = store.db.transaction(() => {
      if (!store.approvals.decide(req.id, status, decidedBy, verb === 'always' ? 'always' : null)) return false;
      if (verb === 'always') addAllowRule(req);
      return true;
    });
    if (!decide()) return { ok: false, text: `Request ${req.code} was already decided.` };
    if (verb === 'no') strike(req.id);
    else strikes.delete(req.chatJid);
    const group = store.groups.get(req.chatJid);
    const who = group?.name ?? req.groupFolder;
    settle(
      req.id,
      verb === 'no'
        ? { approved: false, message: 'The owner declined this. Do not try it another way; say so if it matters.' }
        : { approved: true, message: 'The owner approved this.' },
    );
    const text =
      verb === 'no'
        ? `Declined ${req.code}: the agent in ${who} is told no.`
        : verb === 'always'
          ? `Approved ${req.code}, and always allowed from now on for ${who}.`
          : `Approved ${req.code}, this once.`;
    return { ok: true, text, request: store.approvals.get(req.id) };
  }

  /** Decides one action for a group: at once (allow, deny, an "always" rule) or after asking the owner. */
  async function check(group: RegisteredGroup, action: Action): Promise<Outcome> {
    const mode = modeFor(group, action.kind);
    if (mode === 'allow' || alwaysAllowed(group, action)) return { approved: true, message: 'Allowed.' };
    if (mode === 'deny') {
      return {
        approved: false,
        message: `The owner's settings for this chat do not allow this (${kindWords(action.kind)}: approvals.policy.${action.kind} is "deny"). Do not try it another way; tell the user it needs the owner.`,
      };
    }
    const key = sameRequestKey(group.jid, action);
    const same = inflight.get(key);
    if (same) return same;
    const left = (strikes.get(group.jid)?.until ?? 0) - now();
    if (left > 0) {
      noteRefused(group, { why: 'cooldown' });
      const until = new Date(now() + left).toISOString().slice(11, 19);
      return {
        approved: false,
        message:
          `Not asked: the owner recently said no to this chat, so it may not ask again for ${Math.ceil(left / 1000)} s ` +
          `(until ${until} UTC). Carry on without it or tell the user; do not retry in a loop.`,
      };
    }
    if (waitingFor(group.jid) >= MAX_WAITING_PER_CHAT) {
      noteRefused(group, { why: 'full' });
      return {
        approved: false,
        message:
          `Not asked: ${MAX_WAITING_PER_CHAT} requests from this chat already wait for the owner, the most that may wait ` +
          'at once. Wait for their answers before asking for more; do not retry in a loop.',
      };
    }
    const req = store.approvals.create({
      groupFolder: group.folder,
      chatJid: group.jid,
      kind: action.kind,
      detail: action.detail,
      reason: action.reason ?? '',
      timeoutMs: deps.timeoutMs,
    });
    const outcome = new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        // The timeout is one more contender for the same conditional update: if an answer won, this does nothing.
        if (store.approvals.decide(req.id, 'expired', 'timeout')) {
          strike(req.id);
          settle(req.id, {
            approved: false,
            message: `Timed out after ${minutes(deps.timeoutMs)} with no answer from the owner: treat it as a no. Do not try it another way.`,
          });
        }
      }, deps.timeoutMs);
      timer.unref?.();
      waiters.set(req.id, { resolve, timer, chatJid: group.jid, key, createdAt: now() });
    });
    inflight.set(key, outcome);
    let asked = false;
    try {
      asked = postToMain(ownerText(req, group, action.reason), approvalButtons(req.id));
    } catch (err) {
      deps.logger.error({ err: (err as Error).message, id: req.id }, 'could not ask the owner');
    }
    if (!asked) {
      store.approvals.decide(req.id, 'denied', 'host', 'no main chat to ask');
      settle(req.id, { approved: false, message: 'Refused: there is no main chat to ask the owner in.' });
    } else if (!group.isMain) {
      store.outbox.enqueue(group.jid, `Waiting for the owner's approval to ${action.what}…`, { kind: 'system' });
    }
    deps.logger.info({ id: req.id, group: group.folder, kind: action.kind }, 'approval asked');
    return outcome;
  }

  type Answer = { ok: boolean; text: string; request?: ApprovalRequest };

  /** The owner's answer (main chat). Only a pending request's own code counts, once. */
  function answer(code: string, verb: Verb, decidedBy: string): Answer {
    const req = store.approvals.pendingByCode(code);
    if (!req)
      return { ok: false, text: `No request waits for code ${code.toUpperCase()}: codes work once and expire.` };
    return decideRequest(req, verb, decidedBy);
  }

  /** The owner decided a request by its id (dashboard, CLI: the API token is the owner's). */
  /** By the request's id, or by the code the chat showed with it (what the owner has in front of them). */
  function answerById(id: string, verb: Verb, decidedBy: string): Answer {
    const req = store.approvals.get(id) ?? (/^[A-Z2-9]{4}$/i.test(id) ? store.approvals.pendingByCode(id) : undefined);
    if (!req || req.status !== 'pending')
      return { ok: false, text: `Request ${id} is not waiting for an answer (${req?.status ?? 'no such request'}).` };
    return decideRequest(req, verb, decidedBy);
  }

  /** The owner tapped a request's button: decided like a typed answer; a request already ended says how. */
  function answerButton(id: string, verb: Verb, decidedBy: string): Answer {
    const req = store.approvals.get(id);
    if (!req) return { ok: false, text: 'This request is no longer known.' };
    if (req.status === 'pending') {
      const res = decideRequest(req, verb, decidedBy);
      if (res.ok) return res;
    }
    return { ok: false, text: endedText(store.approvals.get(id) ?? req) };
  }

  const unknownGroup: Outcome = { approved: false, message: 'Refused: this chat is no longer registered.' };

  /** What the gateway asks for a sandbox: by the identity of the endpoint the call came on, never by the payload. */
  const forGateway = {
    async tool(identity: Identity, toolName: string, input: unknown): Promise<Outcome> {
      const group = store.groups.get(identity.chatJid);
      if (!group) return unknownGroup;
      const action = classifyRunnerTool(group, toolName, input);
      return action ? check(group, action) : { approved: true, message: 'Allowed.' };
    },
    /** Never a request: the owner's own machine or network is only allowed in the chat's settings. */
    ownNetwork(identity: Identity, host: string, port: number): void {
      const group = store.groups.get(identity.chatJid);
      if (group) noteRefused(group, { own: `${host}:${port}` });
    },
  };

  /** An action a tool declared (tools/registry.ts): null to go ahead, or why not. */
  async function forTool(identity: Identity, action: Omit<Action, 'reason'>): Promise<string | null> {
    const group = store.groups.get(identity.chatJid);
    if (!group) return unknownGroup.message;
    const outcome = await check(group, action);
    return outcome.approved ? null : outcome.message;
  }

  return {
    check,
    answer,
    answerById,
    answerButton,
    forGateway,
    forTool,
    /** The network policy refused the owner's own machine or network: said in the next summary, never asked. */
    noteOwnNetwork: (group: RegisteredGroup, target: string) => noteRefused(group, { own: target }),
    /** At start: requests from before the restart are denied, never approved. */
    recover(): number {
      return store.approvals.denyAllPending('the host restarted while it waited');
    },
    /** At stop: whatever still waits is denied, and its caller told. */
    stop(): void {
      for (const r of refused.values()) clearTimeout(r.timer);
      refused.clear();
      for (const id of [...waiters.keys()]) {
        store.approvals.decide(id, 'denied', 'host', 'the host stopped while it waited');
        settle(id, { approved: false, message: 'NanoClaw is shutting down: treat it as a no.' });
      }
    },
    pending: () => store.approvals.pending(),
    history: (limit?: number) => store.approvals.history(limit),
  };
}

export type Approvals = ReturnType<typeof createApprovals>;

/** Is this message the owner answering a request, in a main chat? A member's "yes 4F7K" is only a message. */
export function isOwnerAnswer(group: RegisteredGroup | undefined, msg: Message): boolean {
  return !!group?.isMain && msg.fromMe && !msg.fromAssistant && ANSWER_PATTERN.test(msg.text);
}
