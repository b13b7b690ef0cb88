// A voice note in routing: the catch-up's voice-note marking, and a spoken trigger (no "@") calling the assistant.
import { describe, expect, it } from 'vitest';
import { formatCatchUp, isTriggered } from '../../src/core/conversation/router.js';
import type { Message, RegisteredGroup } from '../../src/core/types.js';

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
