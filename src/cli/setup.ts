// The guided first run of `nanoclaw start`: when no Claude credential is
// configured and a person is at the terminal, ask for one, check the sandbox,
// and offer to connect a chat app. `--no-setup` (or no terminal) skips it.
import { loadConfig, type Config } from '../core/config/config.js';
import { homePaths } from '../core/config/home.js';
import { selectRuntime } from '../core/sandbox/runtimes.js';
import { pluginEnv, type ChannelPlugin } from '../core/channels/registry.js';
import { CHANNELS, RUNTIMES } from '../plugins/index.js';
import { checkAndSaveClaudeCredential, exitOnCtrlC } from './auth.js';
import { setEnvValues } from '../kit/env-file.js';
import { paint, type Prompter } from './term.js';

export function needsSetup(config: Config): boolean {
  return !config.credential;
}

export interface SetupDeps {
  config: Config;
  ask: Prompter;
  out: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** The channels offered in step 3, in order (default: the registry's). */
  plugins?: readonly ChannelPlugin[];
  /** Where Ctrl-C arrives, and how the process ends then (default: process, process.exit). */
  signals?: NodeJS.EventEmitter;
  exit?: (code: number) => void;
}

/** Runs the steps and returns the configuration as it is afterwards. */
export async function runSetup(deps: SetupDeps): Promise<Config> {
  const release = exitOnCtrlC(
    'Setup stopped (Ctrl-C). Anything saved so far is kept; run "nanoclaw start" to carry on.',
    {
      signals: deps.signals,
      err: deps.out,
      exit: deps.exit,
    },
  );
  try {
    return await setupSteps(deps);
  } finally {
    release();
  }
}

async function setupSteps(deps: SetupDeps): Promise<Config> {
  const { config, ask, out } = deps;
  const p = paint(out);
  out.write(`\n${p.bold('Welcome to NanoClaw.')} Nothing is configured in ${config.home} yet — three short steps.\n`);
  out.write(p.dim('(Skip this with "nanoclaw start --no-setup"; change anything later with "nanoclaw auth …".)\n\n'));

  out.write(
    `${p.bold('1. Claude')}\n   NanoClaw needs an Anthropic API key (console.anthropic.com) or a Claude subscription token (run "claude setup-token").\n`,
  );
  for (;;) {
    const value = await ask.secret('   Paste it here (hidden; Enter to skip): ');
    if (!value) {
      out.write(
        p.warn('   Skipped: the assistant cannot answer until a credential is set ("nanoclaw auth claude").\n'),
      );
      break;
    }
    try {
      const got = await checkAndSaveClaudeCredential(config, value);
      if (!got.saved) {
        out.write(`   ${p.bad('✗')} ${got.refused}\n`);
        continue;
      }
      const saved = `Saved as ${got.variable} in .env (readable only by you)`;
      out.write(
        got.warning
          ? `   ${p.warn('!')} ${saved}, but ${got.warning}.\n`
          : `   ${p.ok('✓')} ${saved}; the model API accepts it.\n`,
      );
      break;
    } catch (err) {
      out.write(`   ${p.bad('✗')} ${(err as Error).message}\n`);
    }
  }

  out.write(`\n${p.bold('2. Sandbox')}\n`);
  const paths = homePaths(config.home);
  const { runtime, problems } = await selectRuntime(config.runtime, {
    dataDir: paths.data,
    home: config.home,
    env: config.env,
    more: RUNTIMES,
  });
  if (runtime) out.write(`   ${p.ok('✓')} Agents will run in ${runtime.describe?.() ?? runtime.name}.\n`);
  else {
    out.write(`   ${p.bad('✗')} No sandbox runtime works here yet:\n`);
    for (const pr of problems) out.write(`     - ${pr}\n`);
    out.write('   NanoClaw starts anyway; agents run once this is fixed ("nanoclaw doctor" shows what is missing).\n');
  }

  out.write(
    `\n${p.bold('3. Chat apps')} ${p.dim('(optional: the dashboard and "nanoclaw chat" work without them)')}\n`,
  );
  for (const plugin of deps.plugins ?? CHANNELS) {
    await plugin.setup?.({
      ...pluginEnv(config),
      ask,
      out,
      paint: p,
      saveEnv: (values) => setEnvValues(config.home, values),
    });
  }
  out.write('\n');
  // Re-read: .env changed underneath the configuration we started with.
  return loadConfig({ ...deps.env, NANOCLAW_HOME: config.home }, config.home);
}
