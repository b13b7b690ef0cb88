// Group registrations:
//   GET    /api/groups       → { groups, unregistered }  (registered, and chats seen but not registered)
//   POST   /api/groups       { jid, name, folder, trigger?, requiresTrigger? } → 201 { group }
//   DELETE /api/groups/:jid  → { removed: jid }
//   PATCH  /api/groups/:jid  { name?, trigger?, requiresTrigger?, sandbox? } → { group }
// PATCH changes a registered group's name, trigger and sandbox settings
// (limits, egress policy, extra mounts, messages per turn). Sandbox fields merge
// into what is stored; a field sent as null goes back to the default. Extra
// mounts are checked against the mount allowlist before anything is saved.
import { Hono } from 'hono';
import { z } from 'zod';
import { APPROVAL_KINDS } from '../ask.js';
import type { Result } from '../groups/registration.js';
import type { Store } from '../store/index.js';
import type { ApprovalKind, RegisteredGroup, SandboxSettings } from '../types.js';
import { describeIssues } from './chats.js';
import { ApiError, jsonBody, objectBody } from './errors.js';
import type { GroupResponse, GroupsResponse, RemovedResponse } from './types.js';

export type ExtraMount = NonNullable<SandboxSettings['extraMounts']>[number];

/** Why these settings are refused for this group (each plugin checks its own), or null when they are fine. */
export type SettingsCheck = (
  group: RegisteredGroup,
  changed: Partial<SandboxSettings>,
) => string | null | Promise<string | null>;

export interface GroupsApiDeps {
  store: Pick<Store, 'groups' | 'messages'>;
  register(input: Record<string, unknown>): Result<RegisteredGroup>;
  unregister(jid: string): Result<RegisteredGroup>;
  checkSettings: SettingsCheck;
}

const mount = z
  .object({
    hostPath: z.string().min(1).max(4096),
    containerPath: z.string().min(1).max(200),
    readonly: z.boolean().optional(),
  })
  .strict();

const approvalMode = z.enum(['allow', 'ask', 'deny']);
/** "Ask me first" settings: a mode per kind, the Bash patterns that count, and the owner's "always" rules. */
const approvalSettings = z
  .object({
    policy: z
      .object(Object.fromEntries(APPROVAL_KINDS.map((k) => [k, approvalMode.optional()])))
      .strict()
      .optional(),
    bashPatterns: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .max(200)
          .refine((t) => !/[\r\n]/.test(t), 'must be on one line'),
      )
      .max(100)
      .optional(),
    allow: z
      .array(
        z
          .object({
            kind: z.enum(APPROVAL_KINDS as [ApprovalKind, ...ApprovalKind[]]),
            detail: z.string().min(1).max(100_000),
          })
          .strict(),
      )
      .max(500)
      .optional(),
  })
  .strict();

const sandboxPatch = z
  .object({
    memoryMb: z.number().int().min(128).max(1_048_576).nullable(),
    cpus: z.number().min(0.1).max(256).nullable(),
    pids: z.number().int().min(16).max(1_000_000).nullable(),
    timeoutMs: z.number().int().min(10_000).max(86_400_000).nullable(),
    idleTimeoutMs: z.number().int().min(1_000).max(86_400_000).nullable(),
    outputCapBytes: z.number().int().min(1024).max(1_073_741_824).nullable(),
    diskQuotaMb: z.number().int().min(1).max(16_777_216).nullable(),
    egress: z.enum(['none', 'allowlist', 'open']).nullable(),
    egressAllowlist: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .max(300)
          .regex(/^[A-Za-z0-9*.\-[\]:]+$/, 'must be a destination such as example.com or 10.0.0.5:5432'),
      )
      .max(200)
      .nullable(),
    extraMounts: z.array(mount).max(20).nullable(),
    maxMessagesPerTurn: z.number().int().min(0).max(1000).nullable(),
    approvals: approvalSettings.nullable(),
  })
  .partial()
  .strict();

const groupPatch = z
  .object({
    name: z.string().trim().min(1).max(200),
    trigger: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .refine((t) => !/[\r\n]/.test(t), 'must be on one line'),
    requiresTrigger: z.boolean(),
    sandbox: sandboxPatch,
  })
  .partial()
  .strict();

export type GroupPatch = z.infer<typeof groupPatch>;

/** The group after applying `patch` (pure; nothing is saved). */
export function applyPatch(group: RegisteredGroup, patch: GroupPatch): RegisteredGroup {
  const sandbox: Record<string, unknown> = { ...group.sandbox };
  for (const [key, value] of Object.entries(patch.sandbox ?? {})) {
    if (value === null) delete sandbox[key];
    else if (value !== undefined) sandbox[key] = value;
  }
  return {
    ...group,
    name: patch.name ?? group.name,
    trigger: patch.trigger ?? group.trigger,
    requiresTrigger: patch.requiresTrigger ?? group.requiresTrigger,
    sandbox: sandbox as SandboxSettings,
  };
}

/** A refused registration change: conflicts and unknown groups say so, anything else is bad input. */
function refusal(res: { error: string; code?: 'conflict' | 'not_found' }): ApiError {
  return new ApiError(res.code ?? 'invalid', res.error);
}

export function groupsApi(deps: GroupsApiDeps): Hono {
  const app = new Hono();

  app.get('/api/groups', (c) => {
    const registered = deps.store.groups.list();
    const known = deps.store.messages.chats().filter((ch) => !registered.some((g) => g.jid === ch.jid));
    return c.json<GroupsResponse>({ groups: registered, unregistered: known });
  });

  app.post('/api/groups', async (c) => {
    const body = await objectBody(c, 'Body must be JSON.');
    // Settings given at registration pass the same checks as a PATCH (limits, egress, the mount allowlist).
    if (body.sandbox !== undefined) {
      const parsed = sandboxPatch.safeParse(body.sandbox);
      if (!parsed.success) throw new ApiError('invalid', `Invalid settings: sandbox: ${describeIssues(parsed.error)}`);
      const sandbox = Object.fromEntries(
        Object.entries(parsed.data).filter(([, v]) => v !== null),
      ) as RegisteredGroup['sandbox'];
      const problem = await deps.checkSettings({ isMain: false, sandbox } as RegisteredGroup, sandbox);
      if (problem) throw new ApiError('invalid', problem);
      body.sandbox = sandbox;
    }
    const res = deps.register(body);
    if (!res.ok) throw refusal(res);
    return c.json<GroupResponse>({ group: res.value }, 201);
  });

  app.delete('/api/groups/:jid', (c) => {
    const res = deps.unregister(c.req.param('jid'));
    if (!res.ok) throw refusal(res);
    return c.json<RemovedResponse>({ removed: res.value.jid });
  });

  app.patch('/api/groups/:jid', async (c) => {
    const jid = c.req.param('jid');
    const group = deps.store.groups.get(jid);
    if (!group)
      throw new ApiError('not_found', `${jid.slice(0, 200)} is not registered; register it first (POST /api/groups).`);
    const parsed = groupPatch.safeParse(
      await jsonBody(c, 'Body must be JSON: { name?, trigger?, requiresTrigger?, sandbox? }.'),
    );
    if (!parsed.success) throw new ApiError('invalid', `Invalid settings: ${describeIssues(parsed.error)}`);
    const next = applyPatch(group, parsed.data);
    const changed = Object.fromEntries(
      Object.entries(parsed.data.sandbox ?? {}).filter(([, v]) => v !== null),
    ) as Partial<SandboxSettings>;
    const problem = await deps.checkSettings(next, changed);
    if (problem) throw new ApiError('invalid', problem);
    deps.store.groups.update(next);
    return c.json<GroupResponse>({ group: deps.store.groups.get(jid)! });
  });

  return app;
}
