// Speech made offline for tests: Debian's espeak-ng says the words into a WAV,
// opusenc (opus-tools) packs them as an Ogg/Opus voice note, as WhatsApp and
// Telegram send them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** An Ogg/Opus voice note of `words`, and how long espeak-ng's recording was. */
export function synthesizeVoiceNote(words: string): { ogg: Buffer; seconds: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-speech-'));
  try {
    const wav = path.join(dir, 'speech.wav');
    const ogg = path.join(dir, 'speech.ogg');
    execFileSync('espeak-ng', ['-s', '150', '-w', wav, words]);
    execFileSync('opusenc', ['--quiet', wav, ogg]);
    const w = fs.readFileSync(wav);
    // espeak-ng writes a 44-byte header, 16-bit mono.
    const seconds = (w.length - 44) / 2 / w.readUInt32LE(24);
    return { ogg: fs.readFileSync(ogg), seconds };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
