// How a chat app is set up, checked and linked: the forms, `doctor` checks and `nanoclaw auth` contexts that the
// command and the dashboard use. Nothing here is on the message path; the core's ChannelPlugin gains these fields.
import type { ChannelState } from '../core/types.js';
import type { ChannelPlugin, PluginEnv, Settings } from '../core/channels/plugin.js';

declare module '../core/channels/plugin.js' {
  interface ChannelPlugin {
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
}

/** null removes a key. Answers the `.env` file's path. */
export type SaveEnv = (values: Record<string, string | null>) => string;

export type Level = 'ok' | 'info' | 'warn' | 'fail';

type Prompts = { ask(question: string): Promise<string>; secret(question: string): Promise<string> };

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
  /**
   * Has the running host start the channel with its saved settings now, as Re-check on the dashboard does, and
   * answers what it says then; null when it cannot (NanoClaw not running, or no dashboard to ask).
   */
  startChannel(name: string): Promise<{ level: Level; message: string } | null>;
  restartHint(): Promise<string>;
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
