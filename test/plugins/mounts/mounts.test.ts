// The mounts plugin gives a chat its listed host folders, and says whether they may be mounted as listed: only on
// mount_write = allow. On deny, and on ask (where only the staged copies approvals gives in their place are
// writable), the core mounts them read-only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { PluginCore } from '../../../src/core/plugin.js';
import type { SandboxStart } from '../../../src/core/sandbox/parts.js';
import type { ApprovalMode, RegisteredGroup } from '../../../src/core/types.js';
import { mounts } from '../../../src/plugins/mounts/index.js';
import { makeHome } from '../../support/harness.js';
import { startBashEnv } from '../../isolation/support.js';

const root = makeHome();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('host folders may be mounted writable as listed only on mount_write = allow', async () => {
  const [configDir, home, shared] = ['config', 'home', 'shared'].map((d) => path.join(root, d));
  for (const d of [configDir, home, shared]) fs.mkdirSync(d);
  const allowlist = { allowedRoots: [{ path: shared, allowReadWrite: true }] };
  fs.writeFileSync(path.join(configDir, 'mount-allowlist.json'), JSON.stringify(allowlist));
  const parts = await mounts.setup!({ config: { configDir }, paths: { home } } as unknown as PluginCore);
  const groupOn = (mode?: ApprovalMode) =>
    ({
      isMain: true,
      sandbox: {
        extraMounts: [{ hostPath: shared, containerPath: 'shared', readonly: false }],
        approvals: mode ? { policy: { mount_write: mode } } : undefined,
      },
    }) as unknown as RegisteredGroup;
  const start = (group: RegisteredGroup) => parts!.sandbox!({ group, current: () => group } as SandboxStart);
  const listed = [{ hostPath: fs.realpathSync(shared), containerPath: '/workspace/extra/shared', readonly: false }];
  expect(start(groupOn('allow'))).toEqual({ hostMounts: listed, writable: true });
  expect(start(groupOn('deny'))).toEqual({ hostMounts: listed, writable: false });
  expect(start(groupOn('ask'))).toEqual({ hostMounts: listed, writable: false });
  // "ask" is the default.
  expect(start(groupOn())).toEqual({ hostMounts: listed, writable: false });
});

test('in the sandbox: allow writes to the host folder, deny leaves it read-only, whatever the command says', async () => {
  const env = await startBashEnv('bwrap');
  const shared = fs.mkdtempSync(path.join(root, 'rw-'));
  fs.chmodSync(shared, 0o777);
  try {
    fs.mkdirSync(env.config.configDir, { recursive: true });
    fs.writeFileSync(
      path.join(env.config.configDir, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: shared, allowReadWrite: true }], nonMainReadOnly: false }),
    );
    const write = (mode: ApprovalMode) => {
      const jid = env.addGroup(`rw-${mode}`, {
        extraMounts: [{ hostPath: shared, containerPath: 'share', readonly: false }],
        approvals: { policy: { mount_write: mode } },
      });
      // Spelled so that no word of the command names the host folder.
      const file = `\${d}tra/share/${mode}.txt`;
      return env.bash(jid, `d=/workspace/ex; if (echo x > ${file}) 2>/dev/null; then echo WROTE; else echo DENIED; fi`);
    };
    expect(await write('deny')).toContain('DENIED');
    expect(fs.existsSync(path.join(shared, 'deny.txt'))).toBe(false);
    expect(await write('allow')).toContain('WROTE');
    expect(fs.readFileSync(path.join(shared, 'allow.txt'), 'utf8')).toBe('x\n');
  } finally {
    await env.close();
  }
});
