// Files attached to a Discord message: what kind each is, what to call it in
// the inbox, and the download, which goes through the media store (staged outside
// every sandbox, capped in size). The user's file name is only shown as text.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { MediaStore } from '../../core/channels/plugin.js';
import type { Attachment } from '../../core/types.js';

/** What the channel needs to know about one attachment (a discord.js Attachment has these fields). */
export interface DiscordFile {
  url: string;
  name: string;
  size: number;
  contentType: string | null;
  /** Sent with Discord's voice-message button. */
  voice?: boolean;
}

export function kindOf(file: DiscordFile): Attachment['kind'] {
  const type = (file.contentType ?? '').toLowerCase();
  if (file.voice || type.startsWith('audio/')) return 'audio';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  return 'document';
}

/** How a message without text shows the file. */
export function placeholderOf(file: DiscordFile): string {
  const name = file.name.replace(/[\u0000-\u001f\u007f-\u009f[\]]/g, ' ').slice(0, 100);
  switch (kindOf(file)) {
    case 'image':
      return '[image]';
    case 'audio':
      return file.voice ? '[voice message]' : `[audio: ${name}]`;
    case 'video':
      return '[video]';
    default:
      return `[document: ${name}]`;
  }
}

export interface DownloadOptions {
  inbox: string;
  maxBytes: number;
  timeoutMs: number;
}

/** Saves one attachment into the inbox under a generated name; answers its path relative to the group folder. */
export async function downloadAttachment(media: MediaStore, file: DiscordFile, o: DownloadOptions): Promise<string> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  return media.save(o.inbox, {
    mimeType: file.contentType ?? undefined,
    fileName: file.name,
    open: async () => {
      const res = await fetch(file.url, { signal });
      if (!res.ok || !res.body) throw new Error(`attachment download answered HTTP ${res.status}`);
      return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    },
    maxBytes: o.maxBytes,
    signal,
  });
}
