// The mount allowlist on its own: what it lets a group mount, and the reason it
// gives when it refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { containerPathProblem, loadMountAllowlist, resolveExtraMounts } from '../../src/plugins/mounts/allowlist.js';
import { extraMountsFor } from '../../src/plugins/mounts/allowlist.js';

let root: string;
let config: string;
let home: string;
let nanoHome: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-allowlist-'));
  home = path.join(root, 'user');
  config = path.join(home, '.config', 'nanoclaw');
  nanoHome = path.join(home, 'nanoclaw');
  for (const d of ['projects/app', 'projects/.aws', 'photos', '.ssh', 'nanoclaw/store', '.config/nanoclaw'])
    fs.mkdirSync(path.join(home, d), { recursive: true });
  fs.writeFileSync(path.join(home, 'projects', 'app', '.env'), 'SECRET=1\n');
  fs.symlinkSync(path.join(home, '.ssh'), path.join(home, 'projects', 'keys'));
  fs.symlinkSync(path.join(home, 'photos'), path.join(home, 'projects', 'pics'));
  fs.writeFileSync(
    path.join(config, 'mount-allowlist.json'),
    JSON.stringify({
      allowedRoots: [{ path: '~/projects', allowReadWrite: true }, { path: '~/photos' }, { path: '~' }],
      blockedPatterns: ['private'],
      nonMainReadOnly: true,
    }),
  );
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const resolveFor = (mounts: any[], isMain = false) =>
  resolveExtraMounts(mounts, {
    isMain,
    load: loadMountAllowlist(config),
    protectedPaths: [nanoHome, config],
    homedir: home,
  });

describe('mount allowlist', () => {
  test('no file: no extra mounts, with where to create it', () => {
    const r = resolveExtraMounts([{ hostPath: '~/projects', containerPath: 'p' }], {
      isMain: true,
      load: loadMountAllowlist(path.join(root, 'nowhere')),
      protectedPaths: [],
      homedir: home,
    });
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.error).toMatch(/need a mount allowlist.*mount-allowlist\.json/);
    expect(
      resolveExtraMounts(undefined, {
        isMain: false,
        load: loadMountAllowlist(path.join(root, 'nowhere')),
        protectedPaths: [],
      }),
    ).toEqual({ ok: true, mounts: [] });
  });

  test('an allowed folder mounts read-only by default at /workspace/extra/<name>', () => {
    const r = resolveFor([{ hostPath: '~/projects/app', containerPath: 'app' }]);
    expect(r).toEqual({
      ok: true,
      mounts: [
        {
          hostPath: fs.realpathSync(path.join(home, 'projects', 'app')),
          containerPath: '/workspace/extra/app',
          readonly: true,
        },
      ],
    });
  });

  test('read-write only where the root allows it, and for main only when nonMainReadOnly', () => {
    expect(resolveFor([{ hostPath: '~/projects/app', containerPath: 'app', readonly: false }], true)).toMatchObject({
      ok: true,
      mounts: [{ readonly: false }],
    });
    const nonMain = resolveFor([{ hostPath: '~/projects/app', containerPath: 'app', readonly: false }], false);
    expect(nonMain.ok).toBe(false);
    const roRoot = resolveFor([{ hostPath: '~/photos', containerPath: 'photos', readonly: false }], true);
    expect(roRoot.ok).toBe(false);
    if (!roRoot.ok) expect(roRoot.error).toMatch(/read-only/);
  });

  test('without "nonMainReadOnly" in the file, non-main groups get extra mounts read-only; main still writes', () => {
    // A writable root in an allowlist that says nothing about non-main groups: the safe default must hold.
    const dir = path.join(root, 'no-key');
    const shared = path.join(root, 'shared');
    fs.mkdirSync(dir);
    fs.mkdirSync(shared);
    const write = (extra: object) =>
      fs.writeFileSync(
        path.join(dir, 'mount-allowlist.json'),
        JSON.stringify({ allowedRoots: [{ path: shared, allowReadWrite: true }], ...extra }),
      );
    const mountFor = (isMain: boolean, readonly?: boolean) =>
      extraMountsFor(
        { isMain, sandbox: { extraMounts: [{ hostPath: shared, containerPath: 'shared', readonly }] } },
        { configDir: dir, home: nanoHome },
      );
    write({});
    const refused = mountFor(false, false);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toMatch(/non-main groups get extra mounts read-only/);
    expect(mountFor(false)).toMatchObject({ ok: true, mounts: [{ readonly: true }] });
    expect(mountFor(true, false)).toMatchObject({ ok: true, mounts: [{ readonly: false }] });
    // Only an explicit false lets a non-main group write.
    write({ nonMainReadOnly: false });
    expect(mountFor(false, false)).toMatchObject({ ok: true, mounts: [{ readonly: false }] });
  });

  test('blocked names are refused as written and as resolved through a symlink', () => {
    for (const [hostPath, pattern] of [
      ['~/.ssh', '.ssh'],
      ['~/projects/.aws', '.aws'],
      ['~/projects/app/.env', '.env'],
      ['~/projects/keys', '.ssh'],
    ]) {
      const r = resolveFor([{ hostPath, containerPath: 'x' }], true);
      expect(r.ok, hostPath).toBe(false);
      if (!r.ok) expect(r.error).toContain(`"${pattern}"`);
    }
  });

  test('a symlink is judged by where it points', () => {
    const r = resolveFor([{ hostPath: '~/projects/pics', containerPath: 'pics', readonly: false }], true);
    // It resolves into ~/photos, whose root is read-only.
    expect(r.ok).toBe(false);
  });

  test("NanoClaw's own home and config can never be mounted, nor a folder holding them", () => {
    for (const hostPath of ['~/nanoclaw', '~/nanoclaw/store', '~']) {
      const r = resolveFor([{ hostPath, containerPath: 'x' }], true);
      expect(r.ok, hostPath).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/NanoClaw's own files/);
    }
  });

  test('outside every root, or missing: refused with the path', () => {
    const outside = resolveFor([{ hostPath: root, containerPath: 'x' }], true);
    expect(outside.ok).toBe(false);
    const missing = resolveFor([{ hostPath: '~/projects/nope', containerPath: 'x' }], true);
    if (!missing.ok) expect(missing.error).toMatch(/does not exist/);
  });

  test('container paths: relative names only, no ":" or ".."', () => {
    expect(containerPathProblem('docs')).toBeNull();
    expect(containerPathProblem('team/docs')).toBeNull();
    expect(containerPathProblem('docs:/etc')).toMatch(/":"/);
    expect(containerPathProblem('../group')).toMatch(/"\.\."/);
    expect(containerPathProblem('a/../../b')).toMatch(/"\.\."/);
    expect(containerPathProblem('/etc')).toMatch(/relative/);
    expect(containerPathProblem('a//b')).toMatch(/empty/);
    expect(containerPathProblem('')).toMatch(/required/);
    const twice = resolveFor(
      [
        { hostPath: '~/projects/app', containerPath: 'a' },
        { hostPath: '~/photos', containerPath: 'a' },
      ],
      true,
    );
    expect(twice.ok).toBe(false);
  });

  test('a broken allowlist file is reported, not ignored', () => {
    const dir = path.join(root, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'mount-allowlist.json'), '{ not json');
    const r = resolveExtraMounts([{ hostPath: '~/projects', containerPath: 'p' }], {
      isMain: true,
      load: loadMountAllowlist(dir),
      protectedPaths: [],
      homedir: home,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not valid JSON/);
  });
});
