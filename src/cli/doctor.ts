// `nanoclaw doctor [--json] [--all]`: checks everything NanoClaw needs and says how to
// fix what is missing. Exit code 1 when any check fails, 0 otherwise (warnings
// and optional parts do not fail it). --all also says why each sandbox
// runtime not in use was passed over.
import type { Config } from '../core/config/config.js';
import { runChecks, type CheckResult, type Level } from './doctor-checks.js';
import { flag, paint } from './term.js';

export async function doctorCommand(
  args: string[],
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const out = process.stdout;
  const results = await runChecks({ config, env, all: flag(args, '--all') });
  const failed = results.filter((r) => r.level === 'fail');
  if (flag(args, '--json')) {
    out.write(JSON.stringify({ ok: failed.length === 0, home: config.home, checks: results }, null, 2) + '\n');
    return failed.length ? 1 : 0;
  }
  const p = paint(out);
  const mark: Record<Level, string> = { ok: p.ok('✓'), info: p.dim('·'), warn: p.warn('!'), fail: p.bad('✗') };
  out.write(`${p.bold('NanoClaw doctor')} ${p.dim(config.home)}\n\n`);
  for (const r of results) printResult(r);
  const warned = results.filter((r) => r.level === 'warn').length;
  out.write('\n');
  if (failed.length)
    out.write(
      p.bad(`${failed.length} problem${failed.length === 1 ? '' : 's'} to fix`) +
        (warned ? p.warn(`, ${warned} warning${warned === 1 ? '' : 's'}`) : '') +
        '. Fix them, then run "nanoclaw doctor" again.\n',
    );
  else if (warned) out.write(p.warn(`Works, with ${warned} warning${warned === 1 ? '' : 's'}.`) + '\n');
  else out.write(p.ok('Everything NanoClaw needs is in place.') + '\n');
  return failed.length ? 1 : 0;

  function printResult(r: CheckResult): void {
    out.write(`  ${mark[r.level]} ${r.name.padEnd(11)} ${r.level === 'fail' ? p.bad(r.detail) : r.detail}\n`);
    for (const n of r.notes ?? []) out.write(`  ${' '.repeat(14)}${p.dim(n)}\n`);
    if (r.fix && (r.level === 'fail' || r.level === 'warn')) out.write(`  ${' '.repeat(14)}→ ${r.fix}\n`);
  }
}
