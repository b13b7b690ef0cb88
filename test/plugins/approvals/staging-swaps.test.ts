// The sandbox keeps writing to its staging copy while the host walks, freezes and
// resets it. Each test swaps a folder for a link to an outside folder (or a file
// for a FIFO) at the exact moment between the host's check and its use, through
// a hook the host itself calls, and checks that the host refuses and that
// nothing outside the staging copy was read, written, deleted or chmodded.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import {
  collectChanges,
  createStagingSession,
  DEFAULT_STAGING_LIMITS,
  resetStaging,
  snapshot,
  stageMount,
  StagingError,
  type HashCache,
  type StagedMount,
} from '../../../src/plugins/approvals/staging.js';

let root: string;
let host: string;
let outside: string;
const limits = { ...DEFAULT_STAGING_LIMITS, maxDiffBytes: 1024 };
const CANARY = 'CANARY: the owner’s own file\n';
const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('hex');

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-staging-swap-'));
  host = path.join(root, 'host');
  fs.mkdirSync(path.join(host, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(host, 'sub', 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(host, 'sub', 'b.txt'), 'b\n');
  outside = path.join(root, 'outside');
  fs.mkdirSync(outside, { mode: 0o755 });
  fs.chmodSync(outside, 0o755);
  for (const n of ['a.txt', 'b.txt', 'canary.txt']) fs.writeFileSync(path.join(outside, n), CANARY, { mode: 0o644 });
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The outside folder exactly as it was: same names, contents and modes. */
function expectOutsideIntact(): void {
  expect(fs.readdirSync(outside).sort()).toEqual(['a.txt', 'b.txt', 'canary.txt']);
  expect(fs.statSync(outside).mode & 0o777).toBe(0o755);
  for (const n of fs.readdirSync(outside)) {
    expect(fs.readFileSync(path.join(outside, n), 'utf8')).toBe(CANARY);
    expect(fs.statSync(path.join(outside, n)).mode & 0o777).toBe(0o644);
  }
}

/** What a sandbox does: the folder moves aside and a link to the outside folder takes its name. */
function swapForLink(dir: string): void {
  fs.renameSync(dir, `${dir}.moved`);
  fs.symlinkSync(outside, dir);
}

/** A hash cache that runs `hook` once, right after the host hashed a file whose key ends with `rel`. */
function hookAfterHash(rel: string, hook: () => void): HashCache {
  let done = false;
  return new (class extends Map<string, { key: string; sha256: string }> {
    override set(k: string, v: { key: string; sha256: string }) {
      super.set(k, v);
      if (!done && (k === rel || k.endsWith(`/${rel}`))) {
        done = true;
        hook();
      }
      return this;
    }
  })();
}

/** Runs `hook` once, right after the host's first call of fs[fn] on a path ending with `/name`. */
function hookAfter(fn: 'lstatSync' | 'mkdirSync', name: string, hook: () => void): void {
  const real = fs[fn] as (...a: unknown[]) => unknown;
  let done = false;
  vi.spyOn(fs, fn).mockImplementation(((...a: unknown[]) => {
    const r = real.apply(fs, a);
    if (!done && String(a[0]).endsWith(`/${name}`)) {
      done = true;
      hook();
    }
    return r;
  }) as never);
}

test('a folder swapped for a link mid-walk: the rest is read from the folder, not through the link', () => {
  const stage = path.join(root, 'stage');
  const m = stageMount(host, '/workspace/extra/h', stage, limits);
  const snap = snapshot(
    m.dir,
    limits,
    'the copy',
    hookAfterHash('sub/a.txt', () => swapForLink(path.join(stage, 'sub'))),
  );
  expect(snap.get('sub/b.txt')).toMatchObject({ type: 'file', sha256: sha('b\n') });
  expectOutsideIntact();
});

test('a changed file whose folder becomes a link before it is frozen: refused, the outside file is not read', () => {
  const stage = path.join(root, 'stage');
  const m = stageMount(host, '/workspace/extra/h', stage, limits);
  fs.writeFileSync(path.join(stage, 'sub', 'a.txt'), 'agent\n');
  m.hashes = hookAfterHash('sub/a.txt', () => swapForLink(path.join(stage, 'sub')));
  const frozen = path.join(root, 'frozen');
  let set: unknown;
  expect(() => (set = collectChanges(m, frozen, limits))).toThrow(StagingError);
  expect(JSON.stringify(set ?? null)).not.toContain('CANARY');
  for (const f of fs.existsSync(frozen) ? fs.readdirSync(frozen) : [])
    expect(fs.readFileSync(path.join(frozen, f), 'utf8')).not.toContain('CANARY');
  expectOutsideIntact();
});

test('a file that keeps growing after the walk is not copied without limit when frozen', () => {
  const small = { ...limits, maxBytes: 64 * 1024 };
  const stage = path.join(root, 'stage');
  const m = stageMount(host, '/workspace/extra/h', stage, small);
  fs.writeFileSync(path.join(stage, 'grow.bin'), 'x');
  const grow = () => fs.appendFileSync(path.join(stage, 'grow.bin'), Buffer.alloc(4 * 1024 * 1024));
  m.hashes = hookAfterHash('grow.bin', grow);
  expect(() => collectChanges(m, path.join(root, 'frozen'), small)).toThrow(/grow\.bin grew past/);
  const frozen = path.join(root, 'frozen');
  const frozenBytes = fs.readdirSync(frozen).reduce((n, f) => n + fs.statSync(path.join(frozen, f)).size, 0);
  expect(frozenBytes).toBeLessThanOrEqual(small.maxBytes + 1024 * 1024);
});

test('a reset: a folder that becomes a link after the host looked at it is not emptied through the link', () => {
  const stage = path.join(root, 'stage');
  const m = stageMount(host, '/workspace/extra/h', stage, limits);
  hookAfter('lstatSync', 'sub', () => swapForLink(path.join(stage, 'sub')));
  expect(() => resetStaging(m, limits)).toThrow(StagingError);
  expectOutsideIntact();
});

test('a reset: a folder that becomes a link right after the host made it receives nothing through the link', () => {
  const stage = path.join(root, 'stage');
  const m = stageMount(host, '/workspace/extra/h', stage, limits);
  hookAfter('mkdirSync', 'sub', () => swapForLink(path.join(stage, 'sub')));
  expect(() => resetStaging(m, limits)).toThrow(StagingError);
  expectOutsideIntact();
});

test('a reset the sandbox foils on a no: the agent and the owner are told, nothing outside is touched', async () => {
  const told: string[] = [];
  const s = createStagingSession({
    mounts: [{ hostPath: host, containerPath: '/workspace/extra/h', readonly: false }],
    stage: () => true,
    workDir: path.join(root, 'work'),
    limits,
    ask: async () => {
      // The swap lands while the host puts the copy back after the no.
      hookAfter('lstatSync', 'sub', () => swapForLink(path.join(dir, 'sub')));
      return { approved: false, message: 'The owner declined this.' };
    },
    tellOwner: (t) => told.push(t),
  });
  const dir = s.mounts[0]!.hostPath;
  fs.writeFileSync(path.join(dir, 'sub', 'new.txt'), 'new\n');
  expect(await s.settle()).toMatch(/declined.*discarded.*could not be put back.*sub was swapped/);
  expect(told.join('\n')).toMatch(/could not be put back/);
  expectOutsideIntact();
  s.dispose();
});

/** Runs `code` (an ES module given `staging` and `dir`) in a child: a host that blocks is killed, not waited on. */
function inChild(code: string, dir: string): { out: string; ms: number; killed: boolean } {
  const script = path.join(root, 'child.mjs');
  const dist = path.resolve('dist/src/plugins/approvals/staging.js');
  const head = `const staging = await import(${JSON.stringify(dist)});\nconst dir = ${JSON.stringify(dir)};\n`;
  fs.writeFileSync(script, head + code);
  const t = Date.now();
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  return { out: `${r.stdout}${r.stderr}`, ms: Date.now() - t, killed: r.signal === 'SIGKILL' };
}

test('a file swapped for a FIFO between the look and the open: refused at once, the host does not block', () => {
  // Runs the built code (npx tsc first), as the CLI tests do: a regression would block this process for good.
  expect(fs.existsSync('dist/src/plugins/approvals/staging.js')).toBe(true);
  const stage = path.join(root, 'stage');
  stageMount(host, '/workspace/extra/h', stage, limits);
  fs.writeFileSync(path.join(stage, 'sub', 'a.txt'), 'agent\n');
  const toFifo = `
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
const target = dir + '/sub/a.txt';
const toFifo = () => { fs.unlinkSync(target); execFileSync('mkfifo', [target]); };`;
  // In the walk: right after the host's lstat of the file.
  const walk = inChild(
    `${toFifo}
const real = fs.lstatSync;
let done = false;
fs.lstatSync = (...a) => {
  const r = real(...a);
  if (!done && String(a[0]).endsWith('/a.txt')) { done = true; toFifo(); }
  return r;
};
try { staging.snapshot(dir, staging.DEFAULT_STAGING_LIMITS); console.log('read'); }
catch (e) { console.log('refused: ' + e.message); }`,
    stage,
  );
  expect(walk.killed).toBe(false);
  expect(walk.out).toMatch(/refused: sub\/a\.txt .*not a file/);
  expect(walk.ms).toBeLessThan(5000);
  fs.rmSync(path.join(stage, 'sub', 'a.txt'));
  fs.writeFileSync(path.join(stage, 'sub', 'a.txt'), 'agent\n');
  // In the freeze: after the walk hashed it, before the host copies it.
  const freeze = inChild(
    `${toFifo}
const limits = staging.DEFAULT_STAGING_LIMITS;
const m = staging.stageMount(dir + '/../host', '/workspace/extra/h', dir + '/../stage2', limits);
m.dir = dir;
let done = false;
m.hashes = new (class extends Map {
  set(k, v) { super.set(k, v); if (!done && k.endsWith('sub/a.txt')) { done = true; toFifo(); } return this; }
})();
try { staging.collectChanges(m, dir + '/../frozen', limits); console.log('read'); }
catch (e) { console.log('refused: ' + e.message); }`,
    stage,
  );
  expect(freeze.killed).toBe(false);
  expect(freeze.out).toMatch(/refused: sub\/a\.txt .*not a file/);
  expect(freeze.ms).toBeLessThan(5000);
});

test('stress: a sandbox swapping a folder and a link in a loop while the host resets and collects', async () => {
  const stage = path.join(root, 'stage');
  fs.mkdirSync(path.join(host, 'd', 'e'), { recursive: true });
  fs.writeFileSync(path.join(host, 'd', 'x.txt'), 'host\n');
  fs.writeFileSync(path.join(host, 'd', 'e', 'y.txt'), 'host\n');
  const m: StagedMount = stageMount(host, '/workspace/extra/h', stage, limits);
  const hostBefore = JSON.stringify([...snapshot(host, limits)]);
  const swapper = path.join(root, 'swapper.mjs');
  fs.writeFileSync(
    swapper,
    `import fs from 'node:fs';
const [d, out] = process.argv.slice(2);
const t = d + '.t';
const e = d + '/e';
process.stdout.write('ready\\n');
for (let i = 0; i < 2_000_000; i++) {
  try { fs.renameSync(d, t); } catch {}
  try { fs.symlinkSync(out, d); } catch {}
  try { fs.renameSync(e, e + '.t'); fs.symlinkSync(out, e); fs.unlinkSync(e); fs.renameSync(e + '.t', e); } catch {}
  try { fs.unlinkSync(d); } catch {}
  try { fs.renameSync(t, d); } catch {
    try { fs.mkdirSync(d); fs.writeFileSync(d + '/x.txt', 'sandbox ' + i); } catch {}
  }
}`,
  );
  const stdio = ['ignore', 'pipe', 'inherit'] as const;
  const child = spawn(process.execPath, [swapper, path.join(stage, 'd'), outside], { stdio: [...stdio] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  let refused = 0;
  const others: string[] = [];
  try {
    for (let i = 0; i < 300 && child.exitCode === null; i++) {
      const collect = () => collectChanges(m, path.join(root, `frozen-${i}`), limits);
      for (const step of [() => resetStaging(m, limits), collect]) {
        try {
          step();
        } catch (err) {
          if (err instanceof StagingError) refused++;
          else others.push((err as Error).message);
        }
      }
      expectOutsideIntact();
    }
  } finally {
    child.kill('SIGKILL');
  }
  expectOutsideIntact();
  expect(JSON.stringify([...snapshot(host, limits)])).toBe(hostBefore);
  for (const f of fs.readdirSync(root).filter((n) => n.startsWith('frozen-')))
    for (const c of fs.readdirSync(path.join(root, f))) {
      expect(fs.readFileSync(path.join(root, f, c), 'utf8')).not.toContain('CANARY');
    }
  expect(
    fs
      .readdirSync(root)
      .filter((n) => !n.startsWith('frozen-'))
      .sort(),
  ).toEqual(['host', 'outside', 'stage', 'swapper.mjs']);
  // Every swap the host met was said as such, never as a raw fs error.
  expect(others).toEqual([]);
  expect(refused).toBeGreaterThan(0);
});
