// Registering a chat with every check in one place (the groups, pairing and email plugins use it), and the main chats.
import fs from 'node:fs';
import { ensureGroupFolder, folderProblem, type HomePaths } from '../config/home.js';
import { defaultTrigger } from '../conversation/router.js';
import type { Store } from '../store/index.js';
import type { Logger } from '../logger.js';
import type { Channel, RegisteredGroup, SandboxSettings } from '../types.js';

export interface RegisterInput {
  jid: unknown;
  name: unknown;
  folder: unknown;
  trigger?: unknown;
  requiresTrigger?: unknown;
  sandbox?: SandboxSettings;
}

// The API answers 409 or 404 for these codes, 400 otherwise.
type Refusal = 'conflict' | 'not_found';
export type RegistrationDeps = { store: Store; paths: HomePaths; assistantName: string };

/** Why these settings are refused for this group (each plugin checks its own), or null. */
export type SettingsCheck = (group: RegisteredGroup, next: SandboxSettings) => string | null | Promise<string | null>;

export type Result<T> = { ok: true; value: T } | { ok: false; error: string; code?: Refusal };

const fail = (error: string, code?: Refusal): Result<never> => ({ ok: false, error, code });

export function registerGroup(deps: RegistrationDeps, input: RegisterInput): Result<RegisteredGroup> {
  const { jid, name, folder } = input;
  if (typeof jid !== 'string' || !/^[^\s]{3,200}$/.test(jid) || (!jid.includes(':') && !jid.includes('@')))
    return fail('jid must be a chat id such as local:family, tg:123456 or 12345@g.us.');
  if (typeof name !== 'string' || !name.trim() || name.length > 200) return fail('name must be 1-200 characters.');
  const problem = folderProblem(folder);
  if (problem) return fail(problem);
  if (folder === 'main') return fail('Folder "main" belongs to the main group; choose another.');
  const trigger = (input.trigger ?? '') === '' ? defaultTrigger(deps.assistantName) : input.trigger;
  if (typeof trigger !== 'string' || trigger.trim().length === 0 || trigger.length > 100 || /[\r\n]/.test(trigger))
    return fail('trigger must be 1-100 characters on one line.');
  if (input.requiresTrigger !== undefined && typeof input.requiresTrigger !== 'boolean')
    return fail('requiresTrigger must be true or false.');
  if (deps.store.groups.get(jid)) return fail(`${jid} is already registered.`, 'conflict');
  if (deps.store.groups.byFolder(folder as string))
    return fail(`Folder "${folder}" is already used by another group.`, 'conflict');
  try {
    ensureGroupFolder(deps.paths, folder as string, name.trim());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC')
      return fail(
        `The disk holding groups/ is full: could not create groups/${folder}. Free some space and try again.`,
      );
    if (code === 'EROFS' || code === 'EACCES')
      return fail(`groups/ is not writable (${code}): could not create groups/${folder}.`);
    return fail((err as Error).message);
  }
  const group: RegisteredGroup = {
    jid,
    name: name.trim(),
    folder: folder as string,
    trigger: trigger.trim(),
    requiresTrigger: input.requiresTrigger !== false,
    isMain: false,
    sandbox: input.sandbox ?? {},
    addedAt: new Date().toISOString(),
  };
  try {
    deps.store.groups.insert(group);
  } catch (err) {
    return fail(`Could not register: ${(err as Error).message}`);
  }
  return { ok: true, value: group };
}

const mainChat = (jid: string, name: string, folder: string, assistantName: string): RegisteredGroup => ({
  jid,
  name,
  folder,
  trigger: defaultTrigger(assistantName),
  requiresTrigger: false,
  isMain: true,
  sandbox: {},
  addedAt: new Date().toISOString(),
});

/** First start: the local main chat, so a fresh install can talk before any phone is linked. */
export function ensureMainGroup(deps: RegistrationDeps): void {
  if (deps.store.groups.main()) return;
  fs.mkdirSync(`${deps.paths.groups}/main`, { recursive: true });
  deps.store.groups.insert(mainChat('local:main', 'Main', 'main', deps.assistantName));
}

/** Once a channel knows the user's "message yourself" chat (WhatsApp), that chat is a main chat too. */
export function registerSelfChat(
  deps: { store: Store; assistantName: string; logger: Logger },
  ch: Pick<Channel, 'name' | 'selfJid'>,
): void {
  const self = ch.selfJid?.();
  if (!self || deps.store.groups.get(self)) return;
  deps.store.groups.insert(mainChat(self, `${ch.name} self-chat`, `main-${ch.name}`.slice(0, 64), deps.assistantName));
  deps.logger.info({ jid: self }, 'registered the self-chat as a main chat');
}
