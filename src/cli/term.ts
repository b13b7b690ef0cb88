// Terminal output and input for the CLI: colours, argument helpers, prompts that hide secrets.
import readline from 'node:readline';
import { redact, registerSecret } from '../core/secrets.js';

export interface Paint {
  ok(s: string): string;
  warn(s: string): string;
  bad(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function paint(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Paint {
  const on = stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { ok: wrap(32, 39), warn: wrap(33, 39), bad: wrap(31, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

export function option(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(name + '=')) return args[i].slice(name.length + 1);
  }
  return undefined;
}

export function flag(args: string[], ...names: string[]): boolean {
  return args.some((a) => names.includes(a));
}

export function positional(args: string[], valued: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (valued.includes(args[i])) {
      i++;
      continue;
    }
    if (!args[i].startsWith('-')) out.push(args[i]);
  }
  return out;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** "14:05" today, "Tue 3 Jun 09:00" otherwise; every time the CLI shows goes through here, so all agree. */
export function localTime(
  when: string | number | null | undefined,
  now = new Date(),
  opts: { seconds?: boolean } = {},
): string {
  if (when === null || when === undefined || when === '') return '—';
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return String(when);
  const time = d.toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    ...(opts.seconds ? { second: '2-digit' } : {}),
  });
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })} ${time}`;
}

export interface Prompter {
  ask(question: string): Promise<string>;
  secret(question: string): Promise<string>;
  close(): void;
}

export function prompter(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stdout,
): Prompter {
  const rl = readline.createInterface({ input, output, terminal: input.isTTY === true });
  let muted = false;
  // readline echoes through _writeToOutput; silence it while a secret is typed.
  const anyRl = rl as unknown as { _writeToOutput(s: string): void };
  const write = anyRl._writeToOutput.bind(rl);
  anyRl._writeToOutput = (s: string) => {
    if (!muted) write(s);
  };
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let closed = false;
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  // Ctrl-C interrupts the process, as everywhere else; readline alone would only close the prompt.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  rl.on('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w('');
  });
  const next = (question: string) =>
    new Promise<string>((resolve) => {
      output.write(question);
      if (lines.length) return resolve(lines.shift()!);
      if (closed) return resolve('');
      waiting.push(resolve);
    });
  return {
    ask: async (q) => (await next(q)).trim(),
    async secret(q) {
      muted = input.isTTY === true;
      try {
        return (await next(q)).trim();
      } finally {
        if (muted) output.write('\n');
        muted = false;
      }
    },
    close: () => rl.close(),
  };
}

export async function readStdin(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A secret typed without echo on a terminal, or read from stdin when piped; never from the command line, where every
 * user sees it in `ps` and the shell keeps it in its history.
 */
export async function readSecret(question: string): Promise<string> {
  const value = process.stdin.isTTY ? await askSecret(question) : (await readStdin()).trim();
  // Hidden before it is checked: a refusal may quote it back (a URL with the token in it).
  registerSecret('SECRET', value);
  return value;
}

async function askSecret(question: string): Promise<string> {
  const ask = prompter();
  try {
    return await ask.secret(question);
  } finally {
    ask.close();
  }
}

/** Every line this process prints passes redact(): no secret reaches a screen. */
export function redactStream(stream: NodeJS.WritableStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(redact(chunk), ...rest);
    if (!(chunk instanceof Uint8Array)) return write(chunk, ...rest);
    const text = Buffer.from(chunk).toString('utf8');
    const clean = redact(text);
    // Only text that held a secret is re-encoded; other bytes pass untouched.
    return write(clean === text ? chunk : Buffer.from(clean), ...rest);
  }) as typeof stream.write;
}
