// `nanoclaw auth claude|<channel>`: store the Claude credential in the home's
// .env (mode 0600), or hand over to the channel's plugin (a bot token, a device
// to link by QR code or pairing code). Secrets are read without echo on a
// terminal, or from stdin when piped; never printed.
import type { Config } from '../core/config/config.js';
import { pluginEnv, type ChannelPlugin } from '../core/channels/registry.js';
import { CHANNELS } from '../plugins/index.js';
import { registerSecret } from '../core/secrets.js';
import { setEnvValues } from '../kit/env-file.js';
import type { Level } from '../kit/channel-setup.js';
import { checkCredential } from './model-check.js';
import { readBody } from './api-client.js';
import { fetchStatus } from './status.js';
import { option, prompter, readSecret } from './term.js';

/** Where a Claude credential goes: OAuth tokens and API keys use different variables. */
export function claudeCredentialVariable(value: string): 'ANTHROPIC_API_KEY' | 'CLAUDE_CODE_OAUTH_TOKEN' | null {
  if (/\s/.test(value) || value.length < 20) return null;
  if (value.startsWith('sk-ant-oat')) return 'CLAUDE_CODE_OAUTH_TOKEN';
  if (value.startsWith('sk-ant-') || value.length >= 32) return 'ANTHROPIC_API_KEY';
  return null;
}

const NOT_A_CREDENTIAL =
  'That does not look like an Anthropic API key (sk-ant-api…) or a Claude OAuth token (sk-ant-oat…, from "claude setup-token").';

function saveClaudeCredential(home: string, value: string): { file: string; variable: string } {
  const variable = claudeCredentialVariable(value);
  if (!variable) throw new Error(NOT_A_CREDENTIAL);
  // Only one credential at a time: the config prefers the API key, so a stale one would win.
  const other = variable === 'ANTHROPIC_API_KEY' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY';
  return { file: setEnvValues(home, { [variable]: value, [other]: null }), variable };
}

type CheckedSave =
  { saved: false; refused: string } | { saved: true; variable: string; file: string; warning: string | null };

/**
 * Tries the credential against the model API (ANTHROPIC_BASE_URL) before saving it: a refused one is not saved;
 * one the API could not judge (unreachable, failing) is saved with a warning that says so.
 */
export async function checkAndSaveClaudeCredential(
  config: Pick<Config, 'home' | 'anthropicBaseUrl'>,
  value: string,
): Promise<CheckedSave> {
  const variable = claudeCredentialVariable(value);
  if (!variable) throw new Error(NOT_A_CREDENTIAL);
  // Hidden before it is sent: a refusal may quote it back.
  registerSecret(variable, value);
  const kind = variable === 'ANTHROPIC_API_KEY' ? 'api-key' : 'oauth';
  const check = await checkCredential(config.anthropicBaseUrl, { kind, value });
  if (check.verdict === 'refused')
    return {
      saved: false,
      refused: `Not saved: ${check.detail}. Copy it again (console.anthropic.com for an API key, "claude setup-token" for a subscription token).`,
    };
  return {
    saved: true,
    ...saveClaudeCredential(config.home, value),
    warning: check.verdict === 'unchecked' ? check.detail : null,
  };
}

/**
 * Until the returned function is called, Ctrl-C (SIGINT) ends the process at
 * once with exit code 130 after saying `message`: a link in progress or a
 * pending question must never swallow it.
 */
export function exitOnCtrlC(
  message: string,
  deps: { signals?: NodeJS.EventEmitter; err?: NodeJS.WritableStream; exit?: (code: number) => void } = {},
): () => void {
  const signals = deps.signals ?? process;
  const handler = () => {
    (deps.err ?? process.stderr).write(`\n${message}\n`);
    (deps.exit ?? process.exit)(130);
  };
  signals.on('SIGINT', handler);
  return () => signals.off('SIGINT', handler);
}

/** Every `nanoclaw auth` target: claude, then each channel that has a link flow. */
export function authUsage(plugins: readonly ChannelPlugin[] = CHANNELS): string {
  return ['claude', ...plugins.flatMap((p) => (p.auth ? [p.auth.usage] : []))].join(' | ');
}

export async function authCommand(
  args: string[],
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  plugins: readonly ChannelPlugin[] = CHANNELS,
): Promise<number> {
  const [what] = args;
  const out = process.stdout;
  const restartHint = async () => {
    const running = await fetchStatus(config);
    return 'error' in running
      ? 'It takes effect when NanoClaw starts ("nanoclaw start").'
      : 'Restart NanoClaw for it to take effect (stop it and run "nanoclaw start", or "systemctl --user restart nanoclaw").';
  };
  const release = exitOnCtrlC(`Stopped (Ctrl-C); nothing more was changed.`);
  try {
    if (what === 'claude') {
      const value = await readSecret(
        'Anthropic API key (sk-ant-api…) or Claude OAuth token (sk-ant-oat…, from "claude setup-token"): ',
      );
      if (!value) {
        process.stderr.write('Nothing entered; nothing changed.\n');
        return 2;
      }
      const got = await checkAndSaveClaudeCredential(config, value);
      if (!got.saved) {
        process.stderr.write(`${got.refused}\n`);
        return 1;
      }
      const { file, variable, warning } = got;
      out.write(`Saved ${variable} to ${file} (readable only by you)${warning ? `, but ${warning}` : ''}.\n`);
      if (env[variable] || env[variable === 'ANTHROPIC_API_KEY' ? 'CLAUDE_CODE_OAUTH_TOKEN' : 'ANTHROPIC_API_KEY']) {
        out.write(
          `Note: your environment also sets a Claude credential, and the environment wins over .env; unset it to use this one.\n`,
        );
      }
      // The running host re-reads .env on its next model call; one started with no credential at all must restart.
      const running = await fetchStatus(config);
      if (!('error' in running) && running.status.credential)
        out.write('The running NanoClaw uses it from the next message; no restart needed.\n');
      else out.write(`${await restartHint()}\n`);
      return 0;
    }
    const plugin = plugins.find((p) => p.name === what && p.auth);
    if (plugin?.auth) {
      return await plugin.auth.run({
        ...pluginEnv(config),
        args: args.slice(1),
        out,
        err: process.stderr,
        readSecret,
        prompter: () => prompter(process.stdin, out),
        option: (name) => option(args.slice(1), name),
        saveEnv: (values) => setEnvValues(config.home, values),
        restartHint,
        running: async () => {
          const got = await fetchStatus(config);
          return 'error' in got ? null : got.status.channels;
        },
        startChannel: async (name) => {
          const got = await fetchStatus(config);
          if ('error' in got) return null;
          // The dashboard's Re-check: its answer waits for the channel to connect or say why not.
          const res = await got.api
            .request(`/api/channels/${encodeURIComponent(name)}/check`, {
              method: 'POST',
              signal: AbortSignal.timeout(30_000),
            })
            .catch(() => null);
          return res?.ok ? readBody<{ level: Level; message: string }>(res) : null;
        },
      });
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  } finally {
    release();
  }
  process.stderr.write(`Usage: nanoclaw auth ${authUsage(plugins)}\n`);
  return 2;
}
