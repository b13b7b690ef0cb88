// The staging layer on its own: what counts as a change, what the owner is
// shown, and that a yes applies exactly the frozen set and nothing else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  applyChangeSet,
  collectChanges,
  createStagingSession,
  DEFAULT_STAGING_LIMITS,
  describeChangeSets,
  linkInside,
  stageMount,
} from '../../../src/plugins/approvals/staging.js';

let root: string;
let host: string;
const limits = { ...DEFAULT_STAGING_LIMITS, maxDiffBytes: 1024 };

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-staging-unit-'));
  host = path.join(root, 'host');
  fs.mkdirSync(path.join(host, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(host, 'a.txt'), 'one\ntwo\nthree\n');
  fs.writeFileSync(path.join(host, 'sub', 'b.bin'), Buffer.from([0, 1, 2]));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

test('the copy starts equal; edits, a rename and a deletion are one set with a diff for text only', () => {
  const m = stageMount(host, '/workspace/extra/h', path.join(root, 'stage'), limits);
  expect(collectChanges(m, path.join(root, 'f0'), limits).changes).toEqual([]);
  fs.writeFileSync(path.join(m.dir, 'a.txt'), 'one\nTWO\nthree\n');
  fs.renameSync(path.join(m.dir, 'sub', 'b.bin'), path.join(m.dir, 'c.bin'));
  fs.writeFileSync(path.join(m.dir, 'big.txt'), 'x'.repeat(5000));
  const set = collectChanges(m, path.join(root, 'f1'), limits);
  const text = describeChangeSets([set]);
  expect(text).toContain('changed /workspace/extra/h/a.txt');
  expect(text).toContain('  -two\n  +TWO');
  expect(text).toContain('renamed /workspace/extra/h/sub/b.bin → /workspace/extra/h/c.bin');
  expect(text).toMatch(/created \/workspace\/extra\/h\/big\.txt: 5000 bytes.*\n {2}\(binary or large: no diff\)/);
  // The sandbox changes its copy after the owner looked: the frozen set is what lands.
  fs.writeFileSync(path.join(m.dir, 'a.txt'), 'swapped after the question\n');
  expect(applyChangeSet(set)).toEqual({ ok: true });
  expect(fs.readFileSync(path.join(host, 'a.txt'), 'utf8')).toBe('one\nTWO\nthree\n');
  expect(fs.existsSync(path.join(host, 'sub', 'b.bin'))).toBe(false);
  expect(fs.readFileSync(path.join(host, 'c.bin'))).toEqual(Buffer.from([0, 1, 2]));
  // The later swap is the next set's change, against the new base.
  const next = collectChanges(m, path.join(root, 'f2'), limits);
  expect(next.changes.map((c) => `${c.op} ${c.path}`)).toEqual(['change a.txt']);
});

test('a host file changed meanwhile: nothing of the set is applied', () => {
  const m = stageMount(host, '/workspace/extra/h', path.join(root, 'stage'), limits);
  fs.writeFileSync(path.join(m.dir, 'a.txt'), 'agent\n');
  fs.writeFileSync(path.join(m.dir, 'new.txt'), 'new\n');
  const set = collectChanges(m, path.join(root, 'f'), limits);
  fs.writeFileSync(path.join(host, 'a.txt'), 'owner\n');
  expect(applyChangeSet(set)).toEqual({ ok: false, conflicts: ['/workspace/extra/h/a.txt'] });
  expect(fs.readFileSync(path.join(host, 'a.txt'), 'utf8')).toBe('owner\n');
  expect(fs.existsSync(path.join(host, 'new.txt'))).toBe(false);
});

test('links: inside ones are kept (absolute ones made relative), outside ones refused; a host link is never followed', () => {
  expect(linkInside('x/l', '../a.txt', '/workspace/extra/h')).toBe('../a.txt');
  expect(linkInside('x/l', '../../etc', '/workspace/extra/h')).toBeNull();
  expect(linkInside('x/l', '/workspace/extra/h/a.txt', '/workspace/extra/h')).toBe('../a.txt');
  expect(linkInside('l', '/etc/passwd', '/workspace/extra/h')).toBeNull();

  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  const m = stageMount(host, '/workspace/extra/h', path.join(root, 'stage'), limits);
  fs.writeFileSync(path.join(m.dir, 'sub', 'c.txt'), 'c\n');
  const set = collectChanges(m, path.join(root, 'f'), limits);
  // Between the question and the yes, the host's sub/ becomes a link out (not by the sandbox: it cannot reach it).
  fs.rmSync(path.join(host, 'sub'), { recursive: true });
  fs.symlinkSync(outside, path.join(host, 'sub'));
  expect(applyChangeSet(set).ok).toBe(false);
  expect(fs.readdirSync(outside)).toEqual([]);
});

test('a session asks once per settle, discards on no and resets the copy', async () => {
  const questions: string[] = [];
  let answer = false;
  const s = createStagingSession({
    mounts: [{ hostPath: host, containerPath: '/workspace/extra/h', readonly: false }],
    stage: () => true,
    workDir: path.join(root, 'work'),
    limits,
    ask: async (detail) => {
      questions.push(detail);
      return { approved: answer, message: answer ? 'The owner approved this.' : 'The owner declined this.' };
    },
    tellOwner: () => {},
  });
  const dir = s.mounts[0]!.hostPath;
  expect(dir).not.toBe(host);
  expect(await s.settle()).toBeNull();
  fs.writeFileSync(path.join(dir, 'n1.txt'), '1');
  fs.writeFileSync(path.join(dir, 'n2.txt'), '2');
  expect(await s.settle()).toMatch(/declined.*discarded/);
  expect(questions).toHaveLength(1);
  expect(fs.existsSync(path.join(dir, 'n1.txt'))).toBe(false);
  expect(fs.existsSync(path.join(host, 'n1.txt'))).toBe(false);
  answer = true;
  fs.writeFileSync(path.join(dir, 'n3.txt'), '3');
  expect(await s.settle()).toMatch(/applied/);
  expect(fs.readFileSync(path.join(host, 'n3.txt'), 'utf8')).toBe('3');
  s.dispose();
});

test('a folder too large to stage is refused with what to do', () => {
  expect(() =>
    createStagingSession({
      mounts: [{ hostPath: host, containerPath: '/workspace/extra/h', readonly: false }],
      stage: () => true,
      workDir: path.join(root, 'work'),
      limits: { ...limits, maxBytes: 4 },
      ask: async () => ({ approved: false, message: '' }),
      tellOwner: () => {},
    }),
  ).toThrow(/cannot be staged.*more than.*read-only.*mount_write/);
});

test('only refused changes: the owner is not asked, and the same link is not reported again', async () => {
  const questions: string[] = [];
  const s = createStagingSession({
    mounts: [{ hostPath: host, containerPath: '/workspace/extra/h', readonly: false }],
    stage: () => true,
    workDir: path.join(root, 'work'),
    limits,
    ask: async (detail) => {
      questions.push(detail);
      return { approved: true, message: '' };
    },
    tellOwner: () => {},
  });
  const dir = s.mounts[0]!.hostPath;
  fs.symlinkSync('/etc/passwd', path.join(dir, 'out'));
  expect(await s.settle()).toMatch(
    /owner was not asked[\s\S]*refused \(it leads outside the folder.*out → \/etc\/passwd/,
  );
  expect(await s.settle()).toBeNull();
  expect(questions).toEqual([]);
  expect(fs.existsSync(path.join(host, 'out'))).toBe(false);
  s.dispose();
});

test('the sandbox writing more than the staging limit: discarded without asking, with why', async () => {
  const questions: string[] = [];
  const s = createStagingSession({
    mounts: [{ hostPath: host, containerPath: '/workspace/extra/h', readonly: false }],
    stage: () => true,
    workDir: path.join(root, 'work'),
    limits: { ...limits, maxBytes: 1024 },
    ask: async (detail) => {
      questions.push(detail);
      return { approved: true, message: '' };
    },
    tellOwner: () => {},
  });
  const dir = s.mounts[0]!.hostPath;
  fs.writeFileSync(path.join(dir, 'huge.bin'), Buffer.alloc(4096));
  expect(await s.settle()).toMatch(
    /discarded without asking the owner: the staged copy of \/workspace\/extra\/h holds more than/,
  );
  expect(questions).toEqual([]);
  expect(fs.existsSync(path.join(dir, 'huge.bin'))).toBe(false);
  expect(fs.existsSync(path.join(host, 'huge.bin'))).toBe(false);
  s.dispose();
});
