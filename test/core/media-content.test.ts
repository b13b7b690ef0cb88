// What the model is shown for files and voice notes: document, image and
// text blocks with size caps, the catch-up's voice-note marking, and a spoken
// trigger (no "@") calling the assistant.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileBlocks, LIMITS, turnBlocks } from '../../runner/content.js';
import { formatCatchUp, isTriggered } from '../../src/core/conversation/router.js';
import type { Message, RegisteredGroup } from '../../src/core/types.js';

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

const group: RegisteredGroup = {
  jid: 'tg:1',
  name: 'Trip',
  folder: 'trip',
  trigger: '@Andy',
  requiresTrigger: true,
  isMain: false,
  sandbox: {},
  addedAt: '2026-01-01T00:00:00Z',
};
const base: Message = {
  id: '1',
  chatJid: 'tg:1',
  sender: 'tg:7',
  senderName: 'Alice',
  text: 'Andy, what is the weather?',
  timestamp: '2026-01-01T10:00:00Z',
  fromMe: false,
  fromAssistant: false,
};
const voice: Message = {
  ...base,
  attachments: [{ kind: 'audio', path: 'inbox/1.ogg', transcript: 'Andy, what is the weather?' }],
};

describe('voice notes in routing', () => {
  it('a spoken "Andy, …" triggers; the same words typed without "@" do not', () => {
    expect(isTriggered(group, voice)).toBe(true);
    expect(isTriggered(group, base)).toBe(false);
    expect(isTriggered(group, { ...voice, text: 'I told Andy already' })).toBe(false);
  });

  it('the catch-up marks a transcript as a voice note', () => {
    expect(formatCatchUp([voice], 'UTC')).toContain(
      '<voice_note path="/workspace/group/inbox/1.ogg" transcribed="yes"/>\nAndy, what is the weather?</message>',
    );
  });
});
