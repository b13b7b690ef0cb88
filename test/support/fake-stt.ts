// A fake OpenAI-compatible transcription service on 127.0.0.1
// (POST /v1/audio/transcriptions, multipart). It reads the WAV it is sent, so a
// test can check the host decoded the voice note into real 16 kHz mono speech,
// and lets the test say what was "heard".
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAudio {
  authorization: string | undefined;
  model: string;
  sampleRate: number;
  channels: number;
  seconds: number;
  /** Root mean square of the samples: 0 for silence. */
  rms: number;
}

export type SttScript = (audio: ReceivedAudio) => { text: string } | { status: number; body?: string };

export interface FakeStt {
  /** The base to use as NANOCLAW_STT_URL (ends in /v1). */
  url: string;
  received: ReceivedAudio[];
  setScript(s: SttScript): void;
  close(): Promise<void>;
}

export async function startFakeStt(script: SttScript = () => ({ text: '' })): Promise<FakeStt> {
  const received: ReceivedAudio[] = [];
  let current = script;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') {
      res.writeHead(404).end('not found');
      return;
    }
    const form = await new Request('http://x', {
      method: 'POST',
      headers: req.headers as HeadersInit,
      body: Buffer.concat(chunks),
    })
      .formData()
      .catch(() => null);
    const file = form?.get('file');
    if (!form || !(file instanceof Blob)) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'file is required' } }));
      return;
    }
    const audio = {
      authorization: req.headers.authorization,
      model: String(form.get('model')),
      ...readWav(Buffer.from(await file.arrayBuffer())),
    };
    received.push(audio);
    const answer = current(audio);
    if ('status' in answer) res.writeHead(answer.status).end(answer.body ?? '');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: answer.text }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    received,
    setScript: (s) => {
      current = s;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** 16-bit PCM WAV only: what the host sends. */
function readWav(b: Buffer): Omit<ReceivedAudio, 'authorization' | 'model'> {
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE')
    return { sampleRate: 0, channels: 0, seconds: 0, rms: 0 };
  const channels = b.readUInt16LE(22);
  const sampleRate = b.readUInt32LE(24);
  const data = b.subarray(44);
  let sum = 0;
  const n = Math.floor(data.length / 2);
  for (let i = 0; i < n; i++) sum += (data.readInt16LE(i * 2) / 32768) ** 2;
  return { sampleRate, channels, seconds: n / channels / sampleRate, rms: Math.sqrt(sum / Math.max(1, n)) };
}
