// `nanoclaw logs [-f] [--group <folder>] [--lines N] [--level warn]`: reads the
// host's pino JSON log (logs/nanoclaw.log) and prints it for people.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config/config.js';
import { homePaths } from '../core/config/home.js';
import { followFile, tailLines } from '../kit/log-file.js';
import { duration, flag, localTime, option, paint, type Paint } from './term.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_NUMBERS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

export interface LogFilter {
  group?: string;
  minLevel?: number;
}

export type LogEntry = Record<string, unknown> & { level?: number; time?: number | string; msg?: string };

export function parseLine(line: string): LogEntry | null {
  if (!line.startsWith('{')) return null;
  try {
    const v = JSON.parse(line);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

/** Does this entry belong to the group? Log lines name it as group, groupFolder or folder. */
export function matches(entry: LogEntry | null, filter: LogFilter): boolean {
  if (filter.minLevel && (typeof entry?.level !== 'number' || entry.level < filter.minLevel)) return false;
  if (!filter.group) return true;
  if (!entry) return false;
  return [entry.group, entry.groupFolder, entry.folder].some((v) => v === filter.group);
}

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in (v as object))
    return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** A finished agent turn, as the host logs it: "turn in family (local:family), message, 12s, 3400 tokens: answered". */
function turnLine(e: LogEntry): string | null {
  if (e.msg !== 'turn finished' || typeof e.group !== 'string') return null;
  const ms = typeof e.ms === 'number' ? duration(e.ms) : '?';
  const tokens = typeof e.tokens === 'number' ? `${e.tokens.toLocaleString()} tokens` : 'tokens unknown';
  return `turn in ${e.group} (${String(e.chat ?? '?')}), ${String(e.trigger ?? 'message')}, ${ms}, ${tokens}: ${String(e.outcome ?? 'done')}`;
}

/** One readable line: "14:02:07 WARN  run failed; retrying  group=family attempt=2". */
export function formatEntry(entry: LogEntry, p: Paint): string {
  const time = entry.time !== undefined ? localTime(entry.time, new Date(), { seconds: true }) : '—';
  const lv = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVELS[lv] ?? String(lv)).padEnd(5);
  const coloured = lv >= 50 ? p.bad(name) : lv >= 40 ? p.warn(name) : lv >= 30 ? p.ok(name) : p.dim(name);
  const turn = turnLine(entry);
  if (turn) return `${p.dim(time)} ${coloured} ${turn}`;
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  const extra = fields.length ? `  ${p.dim(fields.join(' '))}` : '';
  return `${p.dim(time)} ${coloured} ${entry.msg ?? ''}${extra}`;
}

export async function logsCommand(args: string[], config: Config): Promise<number> {
  const out = process.stdout;
  const p = paint(out);
  const file = path.join(homePaths(config.home).logs, 'nanoclaw.log');
  const group = option(args, '--group');
  const levelName = option(args, '--level');
  if (levelName && !LEVEL_NUMBERS[levelName]) {
    process.stderr.write(`--level must be one of ${Object.keys(LEVEL_NUMBERS).join(', ')}.\n`);
    return 2;
  }
  const count = Number(option(args, '--lines') ?? option(args, '-n') ?? 100);
  if (!Number.isInteger(count) || count < 0) {
    process.stderr.write('--lines must be a whole number.\n');
    return 2;
  }
  const filter: LogFilter = { group, minLevel: levelName ? LEVEL_NUMBERS[levelName] : undefined };
  const raw = flag(args, '--json');
  const follow = flag(args, '-f', '--follow');
  const print = (line: string) => {
    const entry = parseLine(line);
    if (!matches(entry, filter)) return;
    out.write((raw || !entry ? line : formatEntry(entry, p)) + '\n');
  };

  let offset = 0;
  if (fs.existsSync(file)) {
    const { lines, size } = tailLines(file, count, (l) => matches(parseLine(l), filter));
    for (const l of lines) print(l);
    offset = size;
  } else if (!follow) {
    process.stderr.write(`No log yet at ${file}: NanoClaw writes it once started ("nanoclaw start").\n`);
    return 1;
  }
  if (!follow) return 0;

  const unfollow = followFile(file, offset, print);
  await new Promise<void>((resolve) => {
    const stop = () => {
      unfollow();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
