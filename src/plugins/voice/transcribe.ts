// The step before routing: a message carrying a voice note or audio file gets
// its transcript as its text, so the trigger check, the store (and so
// search_messages) and the catch-up all see what was said. A failure keeps the
// message with a note of why; the audio stays in the inbox either way.
import fs from 'node:fs';
import path from 'node:path';
import { resolveGroupFolder, type HomePaths } from '../../core/config/home.js';
import type { Store } from '../../core/store/index.js';
import type { Attachment, Message } from '../../core/types.js';
import { chunk, decodeToPcm16k } from './audio.js';
import type { SttEngine } from './engine.js';

/** Voice notes larger than this are not read into memory (about an hour of Opus). */
export const MAX_AUDIO_BYTES = 25 * 1024 * 1024;

export interface TranscribeDeps {
  engine: SttEngine | null;
  /** The group folder a message's attachment paths are relative to; null when the chat has none. */
  groupDirFor(jid: string): string | null;
  logger: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

export function needsTranscript(msg: Message): Attachment | undefined {
  return msg.attachments?.find((a) => a.kind === 'audio' && a.transcript === undefined);
}

/** The message with its transcript (or the reason there is none) as its text. */
export async function transcribeMessage(deps: TranscribeDeps, msg: Message): Promise<Message> {
  const audio = needsTranscript(msg);
  if (!audio) return msg;
  let transcript: string;
  let text: string;
  try {
    if (!deps.engine) throw new Error('transcription is off (NANOCLAW_STT=off)');
    transcript = await transcribeFile(deps.engine, readAudio(deps, msg.chatJid, audio), audio.mimeType);
    if (!transcript) throw new Error('no speech was heard');
    text = transcript;
  } catch (err) {
    const why = (err as Error).message;
    deps.logger.warn(
      { chat: msg.chatJid, id: msg.id, err: why },
      'a voice note could not be transcribed; stored with the reason',
    );
    transcript = '';
    text = `[voice note, not transcribed: ${why}]`;
  }
  // A caption the platform sent with the audio stays after what was said.
  const caption = isPlaceholder(msg.text) ? '' : msg.text;
  const attachments = msg.attachments!.map((a) => (a === audio ? { ...a, transcript } : a));
  return { ...msg, text: caption ? `${text}\n${caption}` : text, attachments };
}

/** What channels put in place of audio they could not describe better. */
function isPlaceholder(text: string): boolean {
  return /^\[(voice message|audio)(: [^\]]*)?\]$/.test(text.trim());
}

/** Decodes and transcribes in windows of 30 s, joining the text. */
export async function transcribeFile(engine: SttEngine, bytes: Uint8Array, mimeType?: string): Promise<string> {
  const pcm = await decodeToPcm16k(bytes, mimeType);
  const parts: string[] = [];
  for (const window of chunk(pcm)) {
    const text = await engine.transcribe(window);
    if (text) parts.push(text);
  }
  return parts.join(' ').replace(/\s+/g, ' ').trim();
}

/** Reads the saved file through no link: the agent owns the folder and may swap things in it. */
function readAudio(deps: TranscribeDeps, jid: string, a: Attachment): Buffer {
  const dir = deps.groupDirFor(jid);
  if (!dir) throw new Error('the chat has no group folder');
  const file = path.resolve(dir, a.path);
  if (!file.startsWith(path.resolve(dir) + path.sep)) throw new Error('the audio path leaves the group folder');
  if (fs.realpathSync(path.dirname(file)) !== path.join(fs.realpathSync(dir), path.dirname(a.path))) {
    throw new Error('the inbox is not a plain folder');
  }
  let fd: number;
  try {
    // Non-blocking, so a pipe the agent left in its inbox cannot hold the host until someone writes to it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error('the audio file in the inbox is a link');
    throw new Error(
      `the audio file could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('the audio in the inbox is not a plain file');
    if (st.size > MAX_AUDIO_BYTES) throw new Error(`the audio is larger than ${MAX_AUDIO_BYTES / 1024 / 1024} MB`);
    // Read no more than was measured: a file that grows meanwhile is cut, never read without end.
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Messages of one chat keep their order: a text sent after a voice note waits
 * until the note is transcribed, so the store sees them as they were sent.
 */
export function createVoiceStep(deps: TranscribeDeps) {
  const tails = new Map<string, Promise<void>>();
  return {
    /** Hands the message on (transcribed where it carries audio), in order per chat. */
    receive(msg: Message, next: (m: Message) => void): void {
      const prev = tails.get(msg.chatJid);
      if (!prev && !needsTranscript(msg)) return next(msg);
      const run = (prev ?? Promise.resolve())
        .then(() => transcribeMessage(deps, msg))
        .catch(() => msg)
        .then((m) => next(m))
        .catch((err) => deps.logger.warn({ err: (err as Error).message }, 'handing on a voice note failed'));
      tails.set(msg.chatJid, run);
      void run.finally(() => {
        if (tails.get(msg.chatJid) === run) tails.delete(msg.chatJid);
      });
    },
    /** Resolves once every note received so far has been handed on. */
    async idle(): Promise<void> {
      await Promise.all([...tails.values()]);
    },
  };
}

export type VoiceStep = ReturnType<typeof createVoiceStep>;

/** A registered chat's group folder (where its inbox is). */
export function groupDirOf(ctx: { store: Pick<Store, 'groups'>; paths: HomePaths }): (jid: string) => string | null {
  return (jid) => {
    const group = ctx.store.groups.get(jid);
    try {
      return group ? resolveGroupFolder(ctx.paths, group.folder) : null;
    } catch {
      return null;
    }
  };
}
