// What the model is shown for a turn's files (the media plugin's runner module): document, image and text blocks with
// size caps; and that the plugin mounts that module where the runner loads plugin modules.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PluginCore, PluginParts } from '../../../src/core/plugin.js';
import type { SandboxStart } from '../../../src/core/sandbox/parts.js';
import { media } from '../../../src/plugins/media/index.js';
import { content, fileBlocks, LIMITS, turnBlocks } from '../../../src/plugins/media/runner.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-content-'));
const reader = { size: (p: string) => fs.statSync(p).size, read: (p: string) => fs.readFileSync(p) };
function file(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

describe('file blocks', () => {
  it('a PDF is a base64 document block named after the file', () => {
    const bytes = Buffer.from('%PDF-1.4 tiny');
    expect(fileBlocks({ path: file('a.pdf', bytes), mimeType: 'application/pdf' }, reader)).toEqual([
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: bytes.toString('base64') },
        title: 'a.pdf',
      },
    ]);
  });

  it('an image is an image block; a text file is text under its name; other files are left to the path in the prompt', () => {
    const png = crypto.randomBytes(64);
    expect(fileBlocks({ path: file('p.png', png), mimeType: 'image/png' }, reader)[0]).toMatchObject({
      type: 'image',
      source: { media_type: 'image/png' },
    });
    expect(
      fileBlocks({ path: file('n.csv', Buffer.from('a,b\n1,2')), mimeType: 'application/octet-stream' }, reader),
    ).toEqual([{ type: 'text', text: '<file name="n.csv">\na,b\n1,2\n</file>' }]);
    expect(fileBlocks({ path: file('x.bin', png), mimeType: 'application/octet-stream' }, reader)).toEqual([]);
  });

  it('a file over its limit is named with a note instead of sent', () => {
    const big = file('big.pdf', Buffer.alloc(LIMITS.pdf + 1));
    expect(fileBlocks({ path: big, mimeType: 'application/pdf' }, reader)).toEqual([
      {
        type: 'text',
        text: `[file big.pdf not shown: 10.0 MB is over the 10.0 MB limit for pdf files; it is at ${big}]`,
      },
    ]);
  });
});

describe('a turn with many files', () => {
  it('shows files until the turn budget is spent, then names the rest with a note', () => {
    const a = file('one.pdf', Buffer.alloc(600));
    const b = file('two.pdf', Buffer.alloc(600));
    const blocks = turnBlocks(
      [
        { path: a, mimeType: 'application/pdf' },
        { path: b, mimeType: 'application/pdf' },
      ],
      reader,
      1000,
    );
    expect(blocks.map((x) => x.type)).toEqual(['document', 'text']);
    expect(blocks[1]).toEqual({
      type: 'text',
      text: `[file two.pdf not shown: this message's files are over 20 MB together; it is at ${b}]`,
    });
  });
});

describe('in the sandbox', () => {
  it('the built module is mounted alone, read-only, where the runner loads plugin modules, and is its content hook', async () => {
    const parts = (await media.setup!({} as PluginCore)) as PluginParts;
    const { mounts = [] } = parts.sandbox!({} as SandboxStart) ?? {};
    expect(mounts).toEqual([
      {
        hostPath: expect.stringMatching(/\/dist\/src\/plugins\/media\/runner\.js$/),
        containerPath: '/app/plugins/media.js',
        readonly: true,
      },
    ]);
    // Mounted alone, it can import only what every sandbox has: node's built-ins.
    const imports = [...fs.readFileSync(mounts[0].hostPath, 'utf8').matchAll(/^import .* from '([^']+)'/gm)];
    expect(imports.map((m) => m[1])).toEqual(['node:fs', 'node:path']);
    // The runner calls the module's content(files); without one, the model gets only a note with each path.
    const mounted = await import(mounts[0].hostPath);
    const png = file('shot.png', crypto.randomBytes(32));
    expect(mounted.content([{ path: png, mimeType: 'image/png' }])).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: fs.readFileSync(png, 'base64') } },
    ]);
    expect(content).toBeTypeOf('function');
  });
});
