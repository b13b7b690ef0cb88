// What the host reads from the chat's folder, which the sandbox writes: the start notes of its MCP servers, never
// through a link it planted, and an install never into a folder a link points elsewhere.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { addServer, mcpDir, readStarts } from '../../../src/plugins/mcp/servers.js';
import { tempStore } from '../../support/store.js';

function setup() {
  const { paths, store } = tempStore({ groups: ['family'] });
  const group = store.groups.get('local:family')!;
  const told: string[] = [];
  const deps = { store, paths, renew: () => {}, tell: (_jid: string, text: string) => void told.push(text) };
  return { paths, store, group, told, deps };
}

test('a failed start is said once and kept for status; a later good start clears it', async () => {
  const { paths, store, group, told, deps } = setup();
  await addServer(deps, group, { name: 'echo', command: 'mcp-echo', args: [] });
  const notes = path.join(mcpDir(paths, 'family'), 'started');
  fs.mkdirSync(notes, { recursive: true });
  fs.writeFileSync(path.join(notes, 'echo.json'), JSON.stringify({ ok: false, why: 'mcp-echo exited with 3' }));
  readStarts(deps, group);
  readStarts(deps, group);
  expect(told).toEqual([
    'The MCP server "echo" did not start: mcp-echo exited with 3. Its tools are missing here; fix or remove it with "nanoclaw groups mcp family remove echo".',
  ]);
  expect(store.mcp.failed().map((s) => s.failure)).toEqual(['mcp-echo exited with 3']);
  fs.writeFileSync(path.join(notes, 'echo.json'), JSON.stringify({ ok: true }));
  readStarts(deps, group);
  expect(store.mcp.failed()).toEqual([]);
});

test('a note that is a link to a host file is not read through', async () => {
  const { paths, group, told, deps } = setup();
  await addServer(deps, group, { name: 'echo', command: 'mcp-echo', args: [] });
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-outside-'));
  const secret = path.join(outside, 'secret.json');
  fs.writeFileSync(secret, JSON.stringify({ ok: false, why: 'hostfilecanary4411' }));
  const notes = path.join(mcpDir(paths, 'family'), 'started');
  fs.mkdirSync(notes, { recursive: true });
  fs.symlinkSync(secret, path.join(notes, 'echo.json'));
  readStarts(deps, group);
  expect(told.join('\n')).not.toContain('hostfilecanary4411');
  expect(told).toEqual([expect.stringContaining('"echo" did not start: no reason given')]);
  expect(fs.readFileSync(secret, 'utf8')).toContain('hostfilecanary4411');
  fs.rmSync(outside, { recursive: true, force: true });
});

test('a package is not installed where a link in the chat folder points', async () => {
  const { paths, store, group, deps } = setup();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-outside-'));
  fs.symlinkSync(outside, mcpDir(paths, 'family'));
  await expect(
    addServer(deps, group, { name: 'echo', package: path.resolve('test/fixtures/mcp-echo'), command: 'x', args: [] }),
  ).rejects.toThrow('groups/family/.mcp is a link; remove it');
  expect(fs.readdirSync(outside)).toEqual([]);
  expect(store.mcp.list('family')).toEqual([]);
  fs.rmSync(outside, { recursive: true, force: true });
});

test("a package is installed into the chat's folder without running its install scripts on the host", async () => {
  const { paths, store, group, deps } = setup();
  const server = await addServer(deps, group, {
    name: 'echo',
    package: path.resolve('test/fixtures/mcp-echo'),
    command: 'mcp-echo',
    args: [],
  });
  expect(server).toMatchObject({ name: 'echo', command: 'mcp-echo', failure: null });
  const installed = path.join(mcpDir(paths, 'family'), 'node_modules');
  expect(fs.existsSync(path.join(installed, '.bin', 'mcp-echo'))).toBe(true);
  // The fixture's postinstall would leave this file beside its package.json.
  expect(fs.existsSync(path.join(installed, 'nanoclaw-test-mcp-echo', 'package.json'))).toBe(true);
  expect(fs.existsSync(path.join(installed, 'nanoclaw-test-mcp-echo', 'postinstall-ran'))).toBe(false);
  expect(store.mcp.list('family')).toHaveLength(1);
});
