// Group registrations:
//   GET    /api/groups       → { groups, unregistered }  (registered, and chats seen but not registered)
//   POST   /api/groups       { jid, name, folder, trigger?, requiresTrigger?, sandbox? } → 201 { group }
//   DELETE /api/groups/:jid  → { removed: jid }
//   PATCH  /api/groups/:jid  { name?, trigger?, requiresTrigger?, sandbox? } → { group }
// Sandbox settings merge into what is stored (null restores a default), once every plugin has passed them.
import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError, check, jsonBody, objectBody } from '../../core/api/errors.js';
import type { GroupResponse, RemovedResponse } from '../../core/api/types.js';
import { APPROVAL_KINDS } from '../../core/ask.js';
import {
  registerGroup,
  type RegisterInput,
  type RegistrationDeps,
  type Result,
  type SettingsCheck,
} from '../../core/groups/registration.js';
import type { Store } from '../../core/store/index.js';
import type { ApprovalKind, RegisteredGroup, SandboxSettings } from '../../core/types.js';
import { unregisterGroup } from './unregister.js';

/** GET /api/groups: the registered, and chats seen but not registered. */
export type GroupsResponse = { groups: RegisteredGroup[]; unregistered: ReturnType<Store['messages']['chats']> };

/** Only these fields, each optional. */
const some = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape).partial();
const str = (max: number) => z.string().trim().min(1).max(max);
const line = (max: number) => str(max).refine((t) => !/[\r\n]/.test(t), 'must be on one line');
const int = (min: number, max: number) => z.number().int().min(min).max(max).nullable();
// Read when a request is checked: plugins declare their kinds after this module loads.
const kind = z.string().refine((k) => APPROVAL_KINDS.includes(k as ApprovalKind), 'is not an approval kind');
const destination = str(300).regex(
  /^[A-Za-z0-9*.\-[\]:]+$/,
  'must be a destination such as example.com or 10.0.0.5:5432',
);
const mount = z.strictObject({
  hostPath: z.string().min(1).max(4096),
  containerPath: z.string().min(1).max(200),
  readonly: z.boolean().optional(),
});
/** "Ask me first": a mode per kind, the Bash patterns that count, and the owner's "always" rules. */
const approvals = some({
  policy: z.record(kind, z.enum(['allow', 'ask', 'deny'])),
  bashPatterns: z.array(line(200)).max(100),
  allow: z.array(z.strictObject({ kind, detail: z.string().min(1).max(100_000) })).max(500),
});
const sandboxPatch = some({
  memoryMb: int(128, 1_048_576),
  cpus: z.number().min(0.1).max(256).nullable(),
  pids: int(16, 1_000_000),
  timeoutMs: int(10_000, 86_400_000),
  idleTimeoutMs: int(1_000, 86_400_000),
  outputCapBytes: int(1024, 1_073_741_824),
  diskQuotaMb: int(1, 16_777_216),
  egress: z.enum(['none', 'allowlist', 'open']).nullable(),
  egressAllowlist: z.array(destination).max(200).nullable(),
  extraMounts: z.array(mount).max(20).nullable(),
  maxMessagesPerTurn: int(0, 1000),
  approvals: approvals.nullable(),
  // The models and heartbeat plugins check what these say.
  model: z.string().max(100).nullable(),
  effort: z.string().max(50).nullable(),
  heartbeatMinutes: int(5, 1440),
  heartbeatQuiet: z.string().max(50).nullable(),
});
const groupPatch = some({ name: str(200), trigger: line(100), requiresTrigger: z.boolean(), sandbox: sandboxPatch });

/** The settings a patch sets, without those it unsets (sent as null). */
const setBy = (patch: object): SandboxSettings =>
  Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));

export function groupsApi(deps: RegistrationDeps & { checkSettings: SettingsCheck }): Hono {
  const { groups, messages } = deps.store;
  const app = new Hono();
  const passes = async (group: RegisteredGroup, changed: SandboxSettings) => {
    const problem = await deps.checkSettings(group, changed);
    if (problem) throw new ApiError('invalid', problem);
  };
  // A refused registration change: conflicts and unknown groups say so, anything else is bad input.
  const done = (res: Result<RegisteredGroup>) => {
    if (!res.ok) throw new ApiError(res.code ?? 'invalid', res.error);
    return res.value;
  };

  app.get('/api/groups', (c) => {
    const registered = groups.list();
    const unregistered = messages.chats().filter((ch) => !registered.some((g) => g.jid === ch.jid));
    return c.json<GroupsResponse>({ groups: registered, unregistered });
  });

  app.post('/api/groups', async (c) => {
    const body = await objectBody(c, 'Body must be JSON.');
    // Settings given at registration pass the same checks as a PATCH.
    if (body.sandbox !== undefined) {
      const sandbox = setBy(check(sandboxPatch, body.sandbox, 'Invalid settings: sandbox: '));
      await passes({ isMain: false, sandbox } as RegisteredGroup, sandbox);
      body.sandbox = sandbox;
    }
    // registerGroup checks every field itself: the body is only shaped like its input.
    return c.json<GroupResponse>({ group: done(registerGroup(deps, body as unknown as RegisterInput)) }, 201);
  });

  app.delete('/api/groups/:jid', (c) =>
    c.json<RemovedResponse>({ removed: done(unregisterGroup(deps.store, c.req.param('jid'))).jid }),
  );

  return app.patch('/api/groups/:jid', async (c) => {
    const jid = c.req.param('jid');
    const group = groups.get(jid);
    if (!group)
      throw new ApiError('not_found', `${jid.slice(0, 200)} is not registered; register it first (POST /api/groups).`);
    const body = await jsonBody(c, 'Body must be JSON: { name?, trigger?, requiresTrigger?, sandbox? }.');
    const { sandbox: patch = {}, ...fields } = check(groupPatch, body, 'Invalid settings: ');
    const sandbox: Record<string, unknown> = { ...group.sandbox, ...patch };
    for (const [key, value] of Object.entries(patch)) if (value === null) delete sandbox[key];
    const next = { ...group, ...fields, sandbox };
    await passes(next, setBy(patch));
    groups.update(next);
    return c.json<GroupResponse>({ group: groups.get(jid)! });
  });
}
