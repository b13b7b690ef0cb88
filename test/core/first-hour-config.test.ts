// What a first start refuses before anything runs (a time zone that does not
// exist), and that a schedule_task which cannot be worked out in the configured
// zone leaves no task behind, however often the agent retries it.
import fs from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import type { Identity } from '../../src/core/gateway/gateway.js';
import { loadConfig } from '../../src/core/config/config.js';
import { homeRefusal } from '../../src/cli/home-check.js';
import { homePaths } from '../../src/core/config/home.js';
import { openDatabase } from '../../src/core/store/db.js';
import { createStore } from '../../src/host.js';
import { createTaskTools } from '../../src/plugins/scheduler/tools.js';
import { createToolHandler } from '../../src/core/tools/tools.js';
import { makeHome } from '../support/harness.js';

const home = makeHome('nanoclaw-first-hour-');
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('TZ', () => {
  test('a time zone that does not exist is refused with the fix', () => {
    expect(() => loadConfig({ NANOCLAW_HOME: home, TZ: 'Mars/Olympus' })).toThrow(
      'TZ=Mars/Olympus is not a time zone; use one like Europe/Berlin (see timedatectl list-timezones).',
    );
  });

  test('a real zone is kept, and no TZ falls back to the system zone', () => {
    expect(loadConfig({ NANOCLAW_HOME: home, TZ: 'America/New_York' }).timezone).toBe('America/New_York');
    expect(loadConfig({ NANOCLAW_HOME: home, TZ: '' }).timezone).toBe(
      Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
    );
  });
});

describe('the home', () => {
  test('a file, or a path where nothing can be created, is refused with the reason', () => {
    const file = `${home}/a-file`;
    fs.writeFileSync(file, 'x');
    expect(homeRefusal({ home: file }, { NANOCLAW_HOME: file })).toContain(`NANOCLAW_HOME=${file} cannot be used`);
    expect(homeRefusal({ home: file }, { NANOCLAW_HOME: file })).toContain('it is a file, not a folder');
    expect(homeRefusal({ home: '/proc/nope' }, { NANOCLAW_HOME: '/proc/nope' })).toContain(
      '/proc does not allow new folders',
    );
  });

  test('a missing home that can be created is fine, and checking it leaves nothing behind', () => {
    const before = fs.readdirSync(home);
    expect(homeRefusal({ home: `${home}/later/deeper` }, { NANOCLAW_HOME: `${home}/later/deeper` })).toBeNull();
    expect(fs.readdirSync(home)).toEqual(before);
  });
});

describe('schedule_task is all or nothing', () => {
  const MAIN: Identity = { groupFolder: 'main', chatJid: 'local:main', isMain: true, taskId: null };

  function tools(timezone: string) {
    const store = createStore(openDatabase(':memory:'));
    store.groups.insert({
      jid: 'local:main',
      name: 'Main',
      folder: 'main',
      trigger: '@Andy',
      requiresTrigger: false,
      isMain: true,
      sandbox: {},
      addedAt: '2025-01-01T00:00:00.000Z',
    });
    const tasks = createTaskTools({ store, timezone, onChange: () => {} });
    const handle = createToolHandler({ store, paths: homePaths(home), assistantName: 'Andy', tools: tasks });
    const call = async (args: Record<string, unknown>) => {
      try {
        return (await handle(MAIN, 'schedule_task', { prompt: 'Water the plants', ...args })) as {
          ok: boolean;
          error?: string;
        };
      } catch (err) {
        return { ok: false, error: `threw: ${(err as Error).message}` };
      }
    };
    return { store, call };
  }

  test.each([
    ['interval', '3600000'],
    ['cron', '0 9 * * *'],
    ['once', '2030-01-06T09:00:00'],
  ])('a %s schedule in a broken time zone is refused, twice, and no task is stored', async (type, value) => {
    const { store, call } = tools('Mars/Olympus');
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await call({ schedule_type: type, schedule_value: value });
      expect(store.tasks.listAll()).toEqual([]);
      expect(r.ok).toBe(false);
      expect(r.error).toContain('Mars/Olympus');
      expect(r.error).not.toMatch(/^threw/);
    }
  });

  test('in a working zone the same call stores exactly one task', async () => {
    const { store, call } = tools('Europe/Berlin');
    const r = await call({ schedule_type: 'interval', schedule_value: '3600000' });
    expect(r.ok).toBe(true);
    expect(store.tasks.listAll()).toHaveLength(1);
  });
});
