// A channel plugin: everything NanoClaw knows about one chat platform, so nothing else names a platform.
import type { Config } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { TakeOutbound } from '../tools/tools.js';
import type { Channel, ChannelState } from '../types.js';

/** Config.env: where a plugin reads its settings. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** null removes a key. Answers the `.env` file's path. */
export type SaveEnv = (values: Record<string, string | null>) => string;

export type Level = 'ok' | 'info' | 'warn' | 'fail';

type Prompts = { ask(question: string): Promise<string>; secret(question: string): Promise<string> };

export interface PluginEnv {
  config: Config;
  paths: HomePaths;
  env: Settings;
}

export interface ChannelContext {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  notifyOwner(text: string): void;
  /** The media plugin's; without it files are neither saved (NO_MEDIA_NOTE) nor sent. */
  media?: MediaStore;
}

// Saved as `name` (a generated one) or under a new name with a harmless extension: fileName's, else the MIME type's,
// else `ext` (default bin).
export interface InboundFile {
  name?: string;
  mimeType?: string;
  fileName?: string;
  ext?: string;
  open(): Promise<Uint8Array | AsyncIterable<Uint8Array>>;
  maxBytes: number;
  signal?: AbortSignal;
}

export interface MediaStore {
  /** Null when the chat is not a registered group: then nothing is downloaded. */
  inboxDirFor(jid: string): string | null;
  /** Answers the path in the group folder ("inbox/<name>"); rejects with MediaTooLarge or MediaRefused. */
  save(inbox: string, file: InboundFile): Promise<string>;
  takeOutbound: TakeOutbound;
}

export class MediaTooLarge extends Error {}

/** The agent made its inbox a link or not a folder: nothing was saved. */
export class MediaRefused extends Error {}

export const REFUSED_NOTE = " (not saved: the group's inbox is not a plain folder)";
export const NO_MEDIA_NOTE = ' (not saved: files are not kept on this install)';

export interface CheckResult {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
  notes?: string[];
}

export interface AuthContext extends PluginEnv {
  args: string[];
  out: NodeJS.WriteStream;
  err: NodeJS.WritableStream;
  readSecret(question: string): Promise<string>;
  /** Questions on the terminal (close it when done). */
  prompter(): Prompts & { close(): void };
  /** The value of `--name value` or `--name=value` in args. */
  option(name: string): string | undefined;
  saveEnv: SaveEnv;
  /** The running host's channels; null when NanoClaw is not running. */
  running(): Promise<({ name: string } & ChannelState)[] | null>;
  restartHint(): Promise<string>;
}

export interface ChannelPlugin {
  readonly name: string;
  readonly label: string;
  /** Always on, started by the host itself (the local channel). */
  readonly builtIn?: boolean;
  ownsJid(jid: string): boolean;
  /** Pairing offers strangers a code only in a one-to-one chat. */
  isDirectChat(jid: string): boolean;
  /** Only then is its platform library loaded. */
  configured(env: PluginEnv): boolean;
  start?(ctx: ChannelContext): Promise<Channel>;
  auth?: { usage: string; run(ctx: AuthContext): Promise<number> };
  doctor?(env: PluginEnv): CheckResult[];
  setup?(
    ctx: PluginEnv & { ask: Prompts; out: NodeJS.WritableStream; paint: Painter; saveEnv: SaveEnv },
  ): Promise<void>;
  setupHint?: { before: string; command: string; after: string };
  linkHelp?: { qr?: string; pairingCode?: string };
  tokenForm?: TokenForm;
  /** From the dashboard, as `nanoclaw auth <name>` does. */
  link?(env: PluginEnv, opts: DashboardLink): Promise<void>;
}

type Painter = Record<'ok' | 'bad' | 'warn', (s: string) => string>;

type DashboardLink = {
  phone?: string;
  onLinking(linking: NonNullable<ChannelState['linking']>): void;
  onProblem(problem: string): void;
};

export interface TokenForm {
  fields: { key: string; label: string; secret?: boolean }[];
  save(values: Record<string, string>, ctx: PluginEnv & { saveEnv: SaveEnv }): Promise<string>;
}

/** Asks for each field (Enter at the first skips) and again after a refusal. */
export function setupByForm(form: TokenForm, prompts: string[]): NonNullable<ChannelPlugin['setup']> {
  return async ({ ask, out, paint, saveEnv, config, paths, env }) => {
    for (;;) {
      const values: Record<string, string> = {};
      for (const [i, field] of form.fields.entries()) {
        const question = `   ${prompts[i] ?? field.label}: `;
        const value = (field.secret ? await ask.secret(question) : await ask.ask(question)).trim();
        if (i === 0 && !value) return;
        values[field.key] = value;
      }
      try {
        out.write(`   ${paint.ok('✓')} ${await form.save(values, { config, paths, env, saveEnv })}\n`);
        return;
      } catch (err) {
        out.write(`   ${paint.bad('✗')} ${(err as Error).message}\n`);
      }
    }
  };
}

/** A chat app's doctor check: settings that do not read (then `fix`), not set up, or what `check` finds. */
export function tokenCheck<S>(form: {
  name: string;
  read(env: Settings): S;
  fix: string;
  isSet(s: S): boolean;
  check(s: S, env: PluginEnv): Omit<CheckResult, 'name'>;
}): (env: PluginEnv) => CheckResult[] {
  const { name } = form;
  const unset = { level: 'info', detail: `not set up (optional): "nanoclaw auth ${name.toLowerCase()}"` } as const;
  return (env) => {
    let s: S;
    try {
      s = form.read(env.env);
    } catch (err) {
      return [{ name, level: 'fail', detail: (err as Error).message, fix: form.fix }];
    }
    return [{ name, ...(form.isSet(s) ? form.check(s, env) : unset) }];
  };
}
