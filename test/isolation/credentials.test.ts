// OAuth tokens are refreshed on the host, against a fake token endpoint on
// 127.0.0.1, and the new pair is kept for the next start.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createCredentialSource, OAUTH_FILE } from '../../src/plugins/claude-login/credentials.js';
import { setEnvValues } from '../../src/kit/env-file.js';

let server: http.Server;
let tokenUrl: string;
let calls: any[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };
let dir: string;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    calls.push(JSON.parse(raw));
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/oauth/token`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  calls = [];
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-auth-'));
});

const write = (state: object) => fs.writeFileSync(path.join(dir, OAUTH_FILE), JSON.stringify(state));
const read = () => JSON.parse(fs.readFileSync(path.join(dir, OAUTH_FILE), 'utf8'));

describe('credentials', () => {
  test('an API key is used as is, never refreshed', async () => {
    const src = createCredentialSource({ initial: { kind: 'api-key', value: 'sk-ant-x' }, authDir: dir, tokenUrl });
    expect(await src.get()).toEqual({ kind: 'api-key', value: 'sk-ant-x' });
    expect(calls).toEqual([]);
  });

  test('an OAuth token from the environment without a refresh token is used as is', async () => {
    const src = createCredentialSource({ initial: { kind: 'oauth', value: 'tok-env' }, authDir: dir, tokenUrl });
    expect(await src.get()).toEqual({ kind: 'oauth', value: 'tok-env' });
  });

  test('a key from .env follows .env while the host runs; one the environment set still wins over it', async () => {
    setEnvValues(dir, { ANTHROPIC_API_KEY: 'sk-ant-old-key-0001' });
    const fromFile = createCredentialSource({
      initial: { kind: 'api-key', value: 'sk-ant-old-key-0001' },
      home: { dir, env: { ANTHROPIC_API_KEY: 'sk-ant-old-key-0001' } },
      authDir: dir,
    });
    const fromEnv = createCredentialSource({
      initial: { kind: 'api-key', value: 'sk-ant-env-key-0002' },
      home: { dir, env: { ANTHROPIC_API_KEY: 'sk-ant-env-key-0002' } },
      authDir: dir,
    });
    setEnvValues(dir, { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-new-token-0003', ANTHROPIC_API_KEY: null });
    expect(await fromFile.get()).toEqual({ kind: 'oauth', value: 'sk-ant-oat01-new-token-0003' });
    expect(await fromEnv.get()).toEqual({ kind: 'api-key', value: 'sk-ant-env-key-0002' });
  });

  test('a token near expiry is refreshed once, however many calls ask at once, and the new pair is saved 0600', async () => {
    const now = 1_000_000_000_000;
    write({ accessToken: 'old', refreshToken: 'refresh-1', expiresAt: now + 60_000 });
    answer = { status: 200, body: { access_token: 'new', refresh_token: 'refresh-2', expires_in: 3600 } };
    const src = createCredentialSource({
      initial: { kind: 'oauth', value: 'tok-env' },
      authDir: dir,
      tokenUrl,
      now: () => now,
      clientId: 'client-x',
    });
    const got = await Promise.all([src.get(), src.get(), src.get()]);
    expect(got.every((c) => c?.value === 'new')).toBe(true);
    expect(calls).toEqual([{ grant_type: 'refresh_token', refresh_token: 'refresh-1', client_id: 'client-x' }]);
    expect(read()).toEqual({ accessToken: 'new', refreshToken: 'refresh-2', expiresAt: now + 3_600_000 });
    expect(fs.statSync(path.join(dir, OAUTH_FILE)).mode & 0o777).toBe(0o600);
    // Fresh now: no second refresh.
    expect((await src.get())?.value).toBe('new');
    expect(calls.length).toBe(1);
  });

  test('a failed refresh keeps a still-valid token, and says what to do once it has expired', async () => {
    let now = 1_000_000_000_000;
    write({ accessToken: 'old', refreshToken: 'refresh-1', expiresAt: now + 60_000 });
    answer = { status: 400, body: { error: 'invalid_grant' } };
    const src = createCredentialSource({ initial: null, authDir: dir, tokenUrl, now: () => now });
    expect((await src.get())?.value).toBe('old');
    now += 120_000;
    await expect(src.get()).rejects.toThrow(/expired and refreshing it failed.*invalid_grant.*claude setup-token/);
  });

  test('an expired token without a refresh token is refused with what to do', async () => {
    write({ accessToken: 'old', expiresAt: 5 });
    const src = createCredentialSource({ initial: null, authDir: dir, tokenUrl, now: () => 10 });
    await expect(src.get()).rejects.toThrow(/expired and there is no refresh token/);
  });
});
