// Voice notes arrive as Ogg/Opus (WhatsApp push-to-talk, Telegram voice) or,
// for audio files, sometimes WAV. Speech engines want 16 kHz mono PCM, so this
// turns either into that, in process (a WASM decoder: no system dependency).
import type { OggOpusDecoder } from 'ogg-opus-decoder';

export const SAMPLE_RATE = 16_000;

/** Audio this cannot decode: the message says so instead of a transcript. */
export class UnsupportedAudio extends Error {}

/** 16 kHz mono samples in [-1, 1]. */
export async function decodeToPcm16k(bytes: Uint8Array, mimeType = ''): Promise<Float32Array> {
  if (isOgg(bytes)) return decodeOgg(bytes);
  if (isWav(bytes)) return decodeWav(bytes);
  throw new UnsupportedAudio(`cannot decode ${mimeType || 'this audio'} (only Ogg/Opus and WAV are read)`);
}

function isOgg(b: Uint8Array): boolean {
  return b.length > 4 && b[0] === 0x4f && b[1] === 0x67 && b[2] === 0x67 && b[3] === 0x53;
}

function isWav(b: Uint8Array): boolean {
  const s = Buffer.from(b.buffer, b.byteOffset, Math.min(12, b.length)).toString('latin1');
  return s.startsWith('RIFF') && s.slice(8, 12) === 'WAVE';
}

async function decodeOgg(bytes: Uint8Array): Promise<Float32Array> {
  // Loaded with the first voice note, not at start: a host that never hears one need not carry the decoder.
  const { OggOpusDecoder: Decoder } = await import('ogg-opus-decoder');
  // Opus decodes at 16 kHz natively: no resampling of 48 kHz output needed.
  const decoder = new Decoder({ sampleRate: SAMPLE_RATE } as ConstructorParameters<typeof OggOpusDecoder>[0]);
  await decoder.ready;
  try {
    const out = await decoder.decodeFile(bytes);
    if (!out.samplesDecoded) throw new UnsupportedAudio('the Ogg file holds no Opus audio');
    return resample(mixDown(out.channelData), out.sampleRate, SAMPLE_RATE);
  } finally {
    decoder.free();
  }
}

/** PCM WAV (8/16/32-bit integer or 32-bit float). */
function decodeWav(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 12;
  let format = 0;
  let channels = 1;
  let rate = 0;
  let bits = 16;
  while (pos + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(pos, pos + 4));
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      rate = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
    } else if (id === 'data') {
      const end = Math.min(bytes.length, body + size);
      return resample(mixDown(wavChannels(view, body, end, { format, channels, bits })), rate, SAMPLE_RATE);
    }
    pos = body + size + (size % 2);
  }
  throw new UnsupportedAudio('the WAV file has no audio data');
}

function wavChannels(
  view: DataView,
  start: number,
  end: number,
  f: { format: number; channels: number; bits: number },
): Float32Array[] {
  const step = f.bits / 8;
  const frames = Math.floor((end - start) / (step * f.channels));
  const out = Array.from({ length: f.channels }, () => new Float32Array(frames));
  const read = sampleReader(view, f.format, f.bits);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < f.channels; c++) out[c][i] = read(start + (i * f.channels + c) * step);
  }
  return out;
}

function sampleReader(view: DataView, format: number, bits: number): (at: number) => number {
  if (format === 3 && bits === 32) return (at) => view.getFloat32(at, true);
  if (bits === 16) return (at) => view.getInt16(at, true) / 32768;
  if (bits === 32) return (at) => view.getInt32(at, true) / 2147483648;
  if (bits === 8) return (at) => (view.getUint8(at) - 128) / 128;
  throw new UnsupportedAudio(`WAV with ${bits}-bit samples is not read`);
}

function mixDown(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(channels[0].length);
  for (const ch of channels) for (let i = 0; i < out.length; i++) out[i] += ch[i] / channels.length;
  return out;
}

/** Linear interpolation after a box filter: plenty for speech going down to 16 kHz. */
export function resample(input: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return input;
  const ratio = from / to;
  const length = Math.floor(input.length / ratio);
  const out = new Float32Array(length);
  const width = Math.max(1, Math.floor(ratio));
  for (let i = 0; i < length; i++) {
    const centre = i * ratio;
    const lo = Math.floor(centre);
    let sum = 0;
    let n = 0;
    for (let k = lo; k < lo + width && k < input.length; k++, n++) sum += input[k];
    const frac = centre - lo;
    const next = input[Math.min(lo + width, input.length - 1)] ?? 0;
    out[i] = n ? (sum / n) * (1 - frac / width) + next * (frac / width) : 0;
  }
  return out;
}

/** 16-bit PCM WAV bytes, for engines that take a file. */
export function toWav(pcm: Float32Array, rate = SAMPLE_RATE): Buffer {
  const data = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, pcm[i])) * 32767), i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

/** Windows of at most `seconds`, so a long note never goes to an engine whole (Whisper reads 30 s at a time). */
export function chunk(pcm: Float32Array, seconds = 30, rate = SAMPLE_RATE): Float32Array[] {
  const size = seconds * rate;
  const out: Float32Array[] = [];
  for (let at = 0; at < pcm.length; at += size) out.push(pcm.subarray(at, at + size));
  return out;
}
