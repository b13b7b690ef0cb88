// A channel plugin: everything NanoClaw knows about one chat platform, in its
// own folder (src/channels/<name>/): its settings, read from the environment
// by the plugin itself; how its channel starts; how `nanoclaw auth <name>`
// links it; its doctor check and setup step; and the shape of its chat ids.
// The registry lists the plugins; nothing else names a platform.
import type { Config } from '../config/config.js';
import type { HomePaths } from '../config/home.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { Channel, ChannelState } from '../types.js';

/** The environment over `.env` (Config.env): where a plugin reads its settings. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** What a plugin may look at without starting anything. */
export interface PluginEnv {
  config: Config;
  paths: HomePaths;
  env: Settings;
}

/** What a plugin gets to start its channel in the host. */
export interface ChannelContext {
  config: Config;
  paths: HomePaths;
  store: Store;
  logger: Logger;
  /** Tell the user something through whichever channel still works. */
  notifyOwner(text: string): void;
}

export type Level = 'ok' | 'info' | 'warn' | 'fail';

/** One line of `nanoclaw doctor`. */
export interface CheckResult {
  name: string;
  level: Level;
  detail: string;
  /** What to do, when level is warn or fail. */
  fix?: string;
  /** Extra lines (e.g. why each runtime was or was not picked). */
  notes?: string[];
}

export interface Prompts {
  ask(question: string): Promise<string>;
  /** Asks without echoing what is typed. */
  secret(question: string): Promise<string>;
}

export interface Painter {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
}

/** Writes keys into the home's `.env` (mode 0600); null removes one. Answers the file's path. */
export type SaveEnv = (values: Record<string, string | null>) => string;

/** The guided first run (`nanoclaw start` with nothing configured): one optional step per plugin. */
export interface SetupContext extends PluginEnv {
  ask: Prompts;
  out: NodeJS.WritableStream;
  paint: Painter;
  saveEnv: SaveEnv;
}

/** A channel as the running host reports it (GET /api/status). */
export interface RunningChannel {
  name: string;
  connected: boolean;
  detail?: string;
  linking?: ChannelState['linking'];
}

/** `nanoclaw auth <name> [args]`. */
export interface AuthContext extends PluginEnv {
  args: string[];
  out: NodeJS.WriteStream;
  err: NodeJS.WritableStream;
  /** Reads a secret without echo on a terminal, or from stdin when piped. */
  readSecret(question: string): Promise<string>;
  saveEnv: SaveEnv;
  /** The running host's channels, or null when NanoClaw is not running. */
  running(): Promise<RunningChannel[] | null>;
  /** When a saved setting takes effect: at the next start, or after a restart. */
  restartHint(): Promise<string>;
}

/** How to set a channel up, for the dashboard and messages: `before` `command` `after`. */
export interface SetupHint {
  before: string;
  command: string;
  after: string;
}

export interface ChannelPlugin {
  /** The channel's name, as in Channel.name, status and `nanoclaw auth <name>`. */
  readonly name: string;
  /** As a person would write it. */
  readonly label: string;
  /** Always on, and started by the host itself (the local channel, fed by the API). */
  readonly builtIn?: boolean;
  /** Does this chat id belong to this platform? Decided from the id's shape alone. */
  ownsJid(jid: string): boolean;
  /** Is this a one-to-one chat (pairing offers strangers a code only there)? */
  isDirectChat(jid: string): boolean;
  /** Set up on this install (a token set, a device linked)? Only then is its platform library loaded. */
  configured(env: PluginEnv): boolean;
  /** Makes the channel; the host connects it. */
  start?(ctx: ChannelContext): Promise<Channel>;
  /** `nanoclaw auth <name>`: store a credential or link a device. Answers the exit code. */
  auth?: { usage: string; run(ctx: AuthContext): Promise<number> };
  /** Its lines in `nanoclaw doctor`. */
  doctor?(env: PluginEnv): CheckResult[];
  /** Its optional step in the guided setup. */
  setup?(ctx: SetupContext): Promise<void>;
  /** Shown where the channel is not set up yet. */
  setupHint?: SetupHint;
  /** What to do with a QR code or pairing code the channel offers while it links (ChannelState.linking). */
  linkHelp?: { qr?: string; pairingCode?: string };
  /** The dashboard's setup form for a channel set up by tokens: checked and saved as `nanoclaw auth <name>` does. */
  tokenForm?: TokenForm;
  /** Links a device from the dashboard (QR code, or a pairing code for `phone`), as `nanoclaw auth <name>` does. */
  link?(env: PluginEnv, opts: DashboardLink): Promise<void>;
}

export interface TokenForm {
  fields: { key: string; label: string; secret?: boolean }[];
  /** Checks the values and saves them through `saveEnv`; throws what is wrong. Answers what to tell the user. */
  save(values: Record<string, string>, ctx: PluginEnv & { saveEnv: SaveEnv }): Promise<string>;
}

export interface DashboardLink {
  phone?: string;
  /** A QR code or pairing code is on offer (each new one replaces the last). */
  onLinking(linking: NonNullable<ChannelState['linking']>): void;
  /** Something in the way, retried; in words for the user. */
  onProblem(problem: string): void;
}

/** What /api/status tells the dashboard about each plugin. */
export interface PluginInfo {
  name: string;
  label: string;
  setup: SetupHint | null;
  linkHelp: { qr?: string; pairingCode?: string } | null;
  /** The fields of its dashboard setup form, when it is set up by tokens. */
  tokenFields: TokenForm['fields'] | null;
  /** Can be linked from the dashboard (POST /api/channels/:name/link). */
  canLink: boolean;
}

export function pluginInfo(p: ChannelPlugin): PluginInfo {
  return {
    name: p.name,
    label: p.label,
    setup: p.setupHint ?? null,
    linkHelp: p.linkHelp ?? null,
    tokenFields: p.tokenForm?.fields ?? null,
    canLink: !!p.link,
  };
}

/**
 * The guided-setup step of a channel set up by a form: asks for each field
 * (prompts in the same order; Enter at the first skips), saves through the
 * form's own check, and asks again after a refusal.
 */
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
