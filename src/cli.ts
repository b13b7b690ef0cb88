#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768 node
// The `nanoclaw` command. Each subcommand lives in src/cli/<name>.ts; this file
// only dispatches, so `nanoclaw --help` stays the one place that lists them.
import { loadConfig } from './core/config/config.js';
import { homeRefusal } from './cli/home-check.js';
import { redactStream } from './cli/term.js';
import { authUsage } from './cli/auth.js';

type Command = (args: string[], config: ReturnType<typeof loadConfig>) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: {
    summary: 'run the assistant (same as npm start)',
    load: async () => (await import('./cli/start.js')).startCommand,
  },
  chat: {
    summary: 'chat in the terminal: chat [--group <folder>]',
    load: async () => (await import('./cli/chat.js')).chatCommand,
  },
  status: {
    summary: 'is it running, and is anything wrong',
    load: async () => (await import('./cli/status.js')).statusCommand,
  },
  pairing: {
    summary: 'pairing list | approve <code> — strangers waiting to talk to the assistant',
    load: async () => (await import('./cli/pairing.js')).pairingCommand,
  },
  approvals: {
    summary: 'approvals [list] | yes|no|always <id or code> — actions waiting for your approval, and past decisions',
    load: async () => (await import('./cli/approvals.js')).approvalsCommand,
  },
  groups: {
    summary: 'groups list | add <jid> <name> <folder> [--trigger @X] [--no-trigger] | remove <jid>',
    load: async () => (await import('./cli/groups.js')).groupsCommand,
  },
  tasks: {
    summary: 'tasks list | add <folder> "<prompt>" --cron|--every|--at <when> | show|pause|resume|cancel <id>',
    load: async () => (await import('./cli/tasks.js')).tasksCommand,
  },
  forget: {
    summary:
      'forget "<phrase>" [--chat <jid|folder>] [--sender <id>] [--since/--until <date>] [--yes] | --opt-outs | --receipts',
    load: async () => (await import('./cli/forget.js')).forgetCommand,
  },
  doctor: {
    summary: 'check everything NanoClaw needs, and how to fix what is missing: doctor [--all] [--json]',
    load: async () => (await import('./cli/doctor.js')).doctorCommand,
  },
  logs: {
    summary: 'logs [-f] [--group <folder>] [--lines N] [--level warn]',
    load: async () => (await import('./cli/logs.js')).logsCommand,
  },
  auth: { summary: `auth ${authUsage()}`, load: async () => (await import('./cli/auth.js')).authCommand },
  dashboard: {
    summary: 'print the dashboard sign-in link: dashboard [--open]',
    load: async () => (await import('./cli/dashboard.js')).dashboardCommand,
  },
  image: {
    summary: 'image build [docker|podman|apple] — build the agent image',
    load: async () => (await import('./cli/image.js')).imageCommand,
  },
  service: {
    summary: 'service install | uninstall [--dry-run] — run in the background (systemd/launchd)',
    load: async () => (await import('./cli/service.js')).serviceCommand,
  },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: nanoclaw <command> [options]\n\nCommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  // Whatever any command prints (a library's error with a token in its URL, an old log line) is redacted.
  redactStream(process.stdout);
  redactStream(process.stderr);
  // `nanoclaw logs | head -1`: the reader has what it wanted; that ends the command, it is not a failure.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(0);
    });
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`Configuration problem: ${(err as Error).message}\n`);
    return 2;
  }
  // Every command reads or writes the home: a home that cannot work is refused before any of them runs.
  const refusal = homeRefusal(config, process.env);
  if (refusal) {
    process.stderr.write(`Configuration problem: ${refusal}\n`);
    return 2;
  }
  return (await cmd.load())(rest, config);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`nanoclaw: ${(err as Error).message ?? err}\n`);
    if (process.env.NANOCLAW_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  },
);
