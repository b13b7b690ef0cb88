// Path traversal and symlink tricks on every path the host builds from input:
// group folders (register_group through the gateway, and the checks beneath
// it), symlinks planted where the host writes, extra mounts (host and
// container side), session state and inbox folders. Each is refused, and no
// file appears anywhere the attack aimed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { inboxDirFor, mediaStagingDir } from '../../src/plugins/media/index.js';
import { MediaRefused } from '../../src/core/channels/plugin.js';
import { saveMedia } from '../../src/plugins/media/save.js';
import { ensureHome, folderProblem, resolveGroupFolder } from '../../src/core/config/home.js';
import { loadMountAllowlist, resolveExtraMounts } from '../../src/plugins/mounts/allowlist.js';
import { groupMounts } from '../../src/core/sandbox/mounts.js';
import { countCases } from './count.js';
import { startRig, storeDigest, tree, type Rig } from './support.js';

countCases('paths');

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig?.close();
});

/** Folder names an attacker might try, and why each must fail. */
const HOSTILE_FOLDERS: string[] = [
  '..',
  '.',
  '../x',
  '../../outside',
  '../../../../etc',
  '/etc',
  '/tmp/x',
  'a/b',
  'a/../b',
  'x/../../outside',
  'a\\b',
  '..\\..\\outside',
  '%2e%2e',
  '%2e%2e%2foutside',
  '..%2f..%2foutside',
  'x\u0000',
  'x\u0000/../../outside',
  '~',
  '~root',
  '$HOME',
  '`id`',
  '$(id)',
  'a;rm -rf ~',
  'a|b',
  'a*',
  '?',
  ' x',
  'x ',
  'x\n',
  'x\r\ny',
  '\t',
  '-rf',
  '--help',
  '_x',
  'X',
  'Main',
  'MAIN',
  'Work',
  'global',
  'main-global',
  'conversations',
  'main',
  'a'.repeat(65),
  'a'.repeat(4096),
  '',
  'a.b',
  '.hidden',
  'x..y',
  'inbox/..',
  '\uff41\uff42\uff43',
  '\u2024\u2024',
  'fam\u0131ly',
  'fam\u200bily',
  'fam\u202eylimaf',
  '\ud83d\ude00',
  'fam\ud83d\ude00',
  'caf\u00e9',
  'cafe\u0301',
  'x\ud800',
  'work\u0000',
  'wor\u212a',
];

describe('group folder names', () => {
  test.each(HOSTILE_FOLDERS.map((f) => [JSON.stringify(f).slice(0, 40), f]))(
    'folder %s is refused by register_group, before anything touches the disk',
    async (_shown, folder) => {
      expect(folderProblem(folder) ?? (folder === 'main' ? 'main' : null)).toBeTruthy();
      if (folder !== 'main') expect(() => resolveGroupFolder(rig.paths, folder)).toThrow();
      const digest = storeDigest(rig.store);
      const files = tree(rig.root);
      const jid = `local:f${Math.random().toString(36).slice(2, 8)}`;
      const r = await rig.tool('main', 'register_group', { jid, name: 'Hostile', folder });
      expect(r.ok).toBe(false);
      expect((r as { error: string }).error).toMatch(
        /required|at most 64|not allowed|reserved|belongs to the main group/,
      );
      expect(storeDigest(rig.store)).toBe(digest);
      expect(tree(rig.root)).toEqual(files);
    },
  );

  test.each([[{ folder: 5 }], [{ folder: null }], [{ folder: ['x'] }], [{ folder: { toString: 'x' } }]])(
    'a folder that is not a string (%j) is refused',
    async (bad) => {
      const digest = storeDigest(rig.store);
      const r = await rig.tool('main', 'register_group', { jid: 'local:typed', name: 'T', ...bad });
      expect(r).toEqual({ ok: false, error: expect.stringMatching(/^Invalid arguments: folder: /) });
      expect(storeDigest(rig.store)).toBe(digest);
    },
  );
});

describe('symlinks planted where the host writes', () => {
  type Plant = (dir: string) => void;
  const plants: [string, Plant][] = [
    ['a symlink to a folder outside the home', (d) => fs.symlinkSync(rig.outside, d)],
    ['a symlink to a file outside the home', (d) => fs.symlinkSync(path.join(rig.outside, 'victim.txt'), d)],
    ["a symlink to another group's folder", (d) => fs.symlinkSync(path.join(rig.paths.groups, 'work'), d)],
    ['a relative symlink to the main folder', (d) => fs.symlinkSync('main', d)],
    ['a symlink to the home itself', (d) => fs.symlinkSync(rig.home, d)],
    [
      'a dangling symlink to a new folder outside',
      (d) => fs.symlinkSync(path.join(rig.outside, 'created-by-attack'), d),
    ],
    ['a symlink loop', (d) => fs.symlinkSync(d, d)],
    ['a regular file', (d) => fs.writeFileSync(d, 'not a folder')],
  ];
  test.each(plants)('groups/<folder> as %s: registration refused, nothing written through it', async (_what, plant) => {
    const folder = `p${Math.random().toString(36).slice(2, 8)}`;
    const dir = path.join(rig.paths.groups, folder);
    plant(dir);
    const digest = storeDigest(rig.store);
    const files = tree(rig.root);
    const r = await rig.tool('main', 'register_group', { jid: `local:${folder}`, name: 'Planted', folder });
    expect(r).toEqual({
      ok: false,
      error: `groups/${folder} exists but is not a plain directory; move it away and try again.`,
    });
    expect(storeDigest(rig.store)).toBe(digest);
    expect(tree(rig.root)).toEqual(files);
    expect(fs.readFileSync(path.join(rig.outside, 'victim.txt'), 'utf8')).toBe('do not touch');
    // And a sandbox for such a folder is never assembled.
    expect(() => groupMounts(rig.paths, { folder, isMain: false })).toThrow(/not a plain directory/);
    expect(tree(rig.root)).toEqual(files);
  });

  test.each([
    ['dangling, to a new file outside', () => path.join(rig.outside, 'planted.md')],
    ['to an existing file outside', () => path.join(rig.outside, 'victim.txt')],
  ])(
    'a left-over folder whose CLAUDE.md is a symlink %s: registration never writes through it',
    async (_what, target) => {
      const folder = `c${Math.random().toString(36).slice(2, 8)}`;
      const dir = path.join(rig.paths.groups, folder);
      fs.mkdirSync(dir);
      fs.symlinkSync(target(), path.join(dir, 'CLAUDE.md'));
      const outsideBefore = tree(rig.outside);
      await rig.tool('main', 'register_group', { jid: `local:${folder}`, name: 'Leftover', folder });
      expect(tree(rig.outside)).toEqual(outsideBefore);
      expect(fs.readFileSync(path.join(rig.outside, 'victim.txt'), 'utf8')).toBe('do not touch');
    },
  );

  test.each([
    ['groups/main/CLAUDE.md', () => path.join(rig.paths.groups, 'main', 'CLAUDE.md')],
    ['groups/global/CLAUDE.md', () => path.join(rig.paths.global, 'CLAUDE.md')],
  ])('the main agent swapping %s for a dangling symlink: the next start writes nothing through it', (_what, file) => {
    // The main group's sandbox can write both; a restart must not turn that into a write anywhere on the host.
    const target = path.join(rig.outside, `restart-${Math.random().toString(36).slice(2)}.md`);
    fs.rmSync(file(), { force: true });
    fs.symlinkSync(target, file());
    ensureHome(rig.paths, 'Andy');
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.lstatSync(file()).isSymbolicLink()).toBe(true);
  });

  test.each([
    ['a symlink to a folder outside', (d: string) => fs.symlinkSync(rig.outside, d)],
    ['a dangling symlink outside', (d: string) => fs.symlinkSync(path.join(rig.outside, 'inbox-target'), d)],
    ["a symlink to another group's folder", (d: string) => fs.symlinkSync(path.join(rig.paths.groups, 'work'), d)],
    ['a file', (d: string) => fs.writeFileSync(d, '')],
  ])('an agent that turns its inbox into %s gets no media saved there', async (_what, plant) => {
    // The agent owns its group folder, so it can plant anything there; the host
    // must not follow it when saving a chat's photos.
    const inbox = path.join(rig.paths.groups, 'family', 'inbox');
    fs.rmSync(inbox, { recursive: true, force: true });
    plant(inbox);
    try {
      fs.mkdirSync(mediaStagingDir(rig.paths), { recursive: true, mode: 0o700 });
      const before = tree(rig.root);
      const inboxDir = inboxDirFor({ store: rig.store, paths: rig.paths }, 'local:family')!;
      await expect(
        saveMedia({
          inbox: inboxDir,
          stagingDir: mediaStagingDir(rig.paths),
          name: 'photo-1.jpg',
          open: async () => Buffer.from('attacker bytes'),
          maxBytes: 1024,
        }),
      ).rejects.toBeInstanceOf(MediaRefused);
      // Nothing new anywhere: not behind the link, not left in staging.
      expect(tree(rig.root)).toEqual(before);
    } finally {
      fs.rmSync(inbox, { recursive: true, force: true });
    }
  });

  test('a plain inbox (or none yet) is used', () => {
    expect(inboxDirFor({ store: rig.store, paths: rig.paths }, 'local:family')).toBe(
      path.join(rig.paths.groups, 'family', 'inbox'),
    );
    expect(inboxDirFor({ store: rig.store, paths: rig.paths }, 'local:stranger')).toBeNull();
  });
});

describe('session state and sockets are derived from checked folders only', () => {
  test.each(['../../outside', '../sessions/work', '/tmp', 'work/../../..', 'x\u0000'])(
    'a stored folder %j (a tampered store) never gets a sandbox or session folder',
    (folder) => {
      const files = tree(rig.root);
      expect(() => groupMounts(rig.paths, { folder, isMain: false })).toThrow(/not allowed/);
      expect(tree(rig.root)).toEqual(files);
    },
  );

  test('the sockets folder is private to the host user', () => {
    expect(fs.statSync(rig.paths.sockets).mode & 0o077).toBe(0);
  });
});

describe('extra mounts', () => {
  let user: string;
  let config: string;
  const resolve = (mounts: any[], isMain = false) =>
    resolveExtraMounts(mounts, {
      isMain,
      load: loadMountAllowlist(config),
      protectedPaths: [rig.home, config],
      homedir: user,
    });

  beforeAll(() => {
    user = path.join(rig.root, 'user');
    config = path.join(user, '.config', 'nanoclaw');
    for (const d of ['code/app', 'code/.ssh', 'code/.aws', 'ro/docs', '.ssh', '.config/nanoclaw'])
      fs.mkdirSync(path.join(user, d), { recursive: true });
    fs.writeFileSync(path.join(user, 'code', 'id_ed25519'), 'key');
    fs.writeFileSync(path.join(user, 'code', 'app', '.env'), 'SECRET=1');
    fs.symlinkSync(path.join(user, '.ssh'), path.join(user, 'code', 'innocent'));
    fs.symlinkSync(rig.outside, path.join(user, 'code', 'elsewhere'));
    fs.symlinkSync(rig.home, path.join(user, 'code', 'nano'));
    fs.symlinkSync(config, path.join(user, 'code', 'cfg'));
    fs.symlinkSync('../..', path.join(user, 'code', 'up'));
    fs.writeFileSync(
      path.join(config, 'mount-allowlist.json'),
      JSON.stringify({
        allowedRoots: [{ path: '~/code', allowReadWrite: true }, { path: '~/ro' }],
        blockedPatterns: ['private'],
        nonMainReadOnly: true,
      }),
    );
  });

  test('an ordinary mount is allowed (the allowlist works)', () => {
    expect(resolve([{ hostPath: '~/code/app', containerPath: 'app' }])).toEqual({
      ok: true,
      mounts: [{ hostPath: path.join(user, 'code', 'app'), containerPath: '/workspace/extra/app', readonly: true }],
    });
  });

  test.each([
    ['a relative path', 'code/app', /must be absolute/],
    ['an empty path', '', /host path is required/],
    ['spaces only', '   ', /host path is required/],
    ['.. out of the root', '~/code/../../outside', /not under any allowed root|does not exist/],
    ['.. in the middle', '~/code/app/../../ro/../../outside', /not under any allowed root|does not exist/],
    ['~ followed by ..', '~/..', /not under any allowed root|NanoClaw's own files/],
    ['~user expansion', '~root/.ssh', /must be absolute|blocked/],
    ['a symlink to ~/.ssh', '~/code/innocent', /resolves to .*blocked pattern ".ssh"/],
    ['~/.ssh itself', '~/.ssh', /blocked pattern ".ssh"/],
    ['a .ssh inside the root', '~/code/.ssh', /blocked pattern ".ssh"/],
    ['a .aws inside the root', '~/code/.aws', /blocked pattern ".aws"/],
    ['a private key file', '~/code/id_ed25519', /blocked pattern "id_ed25519"/],
    ['an .env file', '~/code/app/.env', /blocked pattern ".env"/],
    ['a symlink out of the root', '~/code/elsewhere', /not under any allowed root/],
    ['a symlink to the NanoClaw home', '~/code/nano', /NanoClaw's own files/],
    ['a symlink to the config dir', '~/code/cfg', /blocked pattern|NanoClaw's own files/],
    ['a relative symlink climbing out', '~/code/up', /NanoClaw's own files|not under any allowed root/],
    ['the NanoClaw home', () => rig.home, /NanoClaw's own files/],
    ['the store inside it', () => rig.paths.store, /NanoClaw's own files/],
    ['a folder holding the home', () => rig.root, /NanoClaw's own files/],
    ['the filesystem root', '/', /NanoClaw's own files/],
    ['/etc', '/etc', /not under any allowed root/],
    ['/proc/self/root', '/proc/self/root', /NanoClaw's own files|not under any allowed root/],
    ['a missing folder', '~/code/nope', /does not exist/],
    ['a NUL byte', '~/code/app\u0000/../../.ssh', /does not exist|blocked|must be absolute/],
    ['a newline', '~/code/app\n/etc', /does not exist/],
  ])('host path: %s is refused', (_what, hostPath, error) => {
    const hp = typeof hostPath === 'function' ? hostPath() : hostPath;
    const files = tree(rig.root);
    const r = resolve([{ hostPath: hp, containerPath: 'x' }], true);
    expect(r.ok).toBe(false);
    expect((r as { error: string }).error).toMatch(/^extra mount ".*" was refused: /s);
    expect((r as { error: string }).error).toMatch(error);
    expect(tree(rig.root)).toEqual(files);
  });

  test.each([
    ['..', /contains ".."/],
    ['../x', /contains ".."/],
    ['a/../../x', /contains ".."/],
    ['/etc', /must be relative/],
    ['/workspace/group', /must be relative/],
    ['a:rw', /contains ":"/],
    ['x:/etc:rw', /contains ":"/],
    ['', /container path is required/],
    ['   ', /container path is required/],
    ['.', /empty or "\." segment/],
    ['./a', /empty or "\." segment/],
    ['a//b', /empty or "\." segment/],
    ['a/', /empty or "\." segment/],
    ['a\\..\\..\\b', /may only use/],
    ['a b', /may only use/],
    ['\u00fcber', /may only use/],
    ['a\u0000b', /may only use/],
    ['$(id)', /may only use/],
    ['x'.repeat(101), /may only use/],
  ])('container path %j is refused', (containerPath, error) => {
    const r = resolve([{ hostPath: '~/code/app', containerPath }], true);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  test.each([
    [
      'read-write on a read-only root',
      [{ hostPath: '~/ro/docs', containerPath: 'docs', readonly: false }],
      true,
      /allowed root ~\/ro is read-only/,
    ],
    [
      'read-write for a non-main group',
      [{ hostPath: '~/code/app', containerPath: 'app', readonly: false }],
      false,
      /non-main groups get extra mounts read-only/,
    ],
    [
      'the same container path twice',
      [
        { hostPath: '~/code/app', containerPath: 'a' },
        { hostPath: '~/ro/docs', containerPath: 'a' },
      ],
      true,
      /used twice/,
    ],
    [
      'a good mount beside a bad one (all or nothing)',
      [
        { hostPath: '~/code/app', containerPath: 'app' },
        { hostPath: '~/.ssh', containerPath: 'keys' },
      ],
      true,
      /blocked pattern ".ssh"/,
    ],
  ])('%s is refused', (_what, mounts, isMain, error) => {
    const r = resolve(mounts, isMain as boolean);
    expect(r).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  test('without an allowlist file, any extra mount is refused', () => {
    const r = resolveExtraMounts([{ hostPath: '~/code/app', containerPath: 'app' }], {
      isMain: true,
      load: loadMountAllowlist(path.join(rig.root, 'no-config')),
      protectedPaths: [rig.home],
      homedir: user,
    });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/need a mount allowlist, and there is none at /) });
  });
});
