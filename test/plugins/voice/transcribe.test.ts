// Transcription on the host: Ogg/Opus decoding, the real local engine
// (sherpa-onnx) and what it says when it has no usable model, the first-use
// model download with its checksum, windows for long notes, and the order of
// a chat's messages while a note is transcribed.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, decodeToPcm16k, SAMPLE_RATE, toWav } from '../../../src/plugins/voice/audio.js';
import { createEngine, describeStt, sttSettings, type SttEngine } from '../../../src/plugins/voice/engine.js';
import { ChecksumMismatch, fetchModel, progressBar } from '../../../src/plugins/voice/model-fetch.js';
import { createOpenAiEngine } from '../../../src/plugins/voice/openai-engine.js';
import { createVoiceStep, MAX_AUDIO_BYTES, transcribeMessage } from '../../../src/plugins/voice/transcribe.js';
import type { Message } from '../../../src/core/types.js';
import { synthesizeVoiceNote } from '../../support/speech.js';
import { until } from '../../support/harness.js';

const quiet = { warn: () => {}, info: () => {} };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-stt-'));

function voiceMessage(groupDir: string, bytes: Buffer, id = 'v1', chatJid = 'tg:1'): Message {
  fs.mkdirSync(path.join(groupDir, 'inbox'), { recursive: true });
  fs.writeFileSync(path.join(groupDir, 'inbox', `${id}.ogg`), bytes);
  return {
    id,
    chatJid,
    sender: 'tg:7',
    senderName: 'Alice',
    text: '[voice message]',
    timestamp: new Date().toISOString(),
    fromMe: false,
    fromAssistant: false,
    attachments: [{ kind: 'audio', path: `inbox/${id}.ogg`, mimeType: 'audio/ogg' }],
  };
}

describe('decoding', () => {
  it('turns an espeak-ng Ogg/Opus voice note into 16 kHz mono speech of the same length', async () => {
    const { ogg, seconds } = synthesizeVoiceNote('remind me to buy milk tomorrow');
    const pcm = await decodeToPcm16k(ogg, 'audio/ogg');
    expect(Math.abs(pcm.length / SAMPLE_RATE - seconds)).toBeLessThan(0.15);
    const rms = Math.sqrt(pcm.reduce((s, x) => s + x * x, 0) / pcm.length);
    expect(rms).toBeGreaterThan(0.01);
    // A WAV round trip keeps it.
    expect(((await decodeToPcm16k(toWav(pcm))) as Float32Array).length).toBe(pcm.length);
  });

  it('refuses audio it cannot read, saying which', async () => {
    await expect(decodeToPcm16k(Buffer.from('ID3 not really an mp3'), 'audio/mpeg')).rejects.toThrow(
      'cannot decode audio/mpeg',
    );
  });

  it('cuts a long note into 30-second windows', () => {
    const windows = chunk(new Float32Array(SAMPLE_RATE * 75));
    expect(windows.map((w) => w.length / SAMPLE_RATE)).toEqual([30, 30, 15]);
  });
});

describe('the local engine (sherpa-onnx)', () => {
  it('stores a note with the reason when no model is there, and doctor says how to get one', async () => {
    const data = tmp();
    const s = sttSettings({}, data);
    expect(describeStt(s)).toMatchObject({ ok: false, detail: expect.stringContaining('no model in') });
    const dir = tmp();
    const out = await transcribeMessage(
      { engine: createEngine(s), groupDirFor: () => dir, logger: quiet },
      voiceMessage(dir, synthesizeVoiceNote('hello').ogg),
    );
    expect(out.text).toBe(
      `[voice note, not transcribed: no speech model in ${path.join(data, 'models', 'whisper')} (run nanoclaw doctor)]`,
    );
    expect(out.attachments![0].transcript).toBe('');
    expect(fs.existsSync(path.join(dir, 'inbox', 'v1.ogg'))).toBe(true);
  });

  it('loads the model files through the real engine, and names a broken model', async () => {
    const model = tmp();
    for (const f of ['tiny-encoder.int8.onnx', 'tiny-decoder.int8.onnx'])
      fs.writeFileSync(path.join(model, f), crypto.randomBytes(512));
    fs.writeFileSync(path.join(model, 'tiny-tokens.txt'), 'a 0\nb 1\n');
    const s = sttSettings({ NANOCLAW_STT_MODEL: model }, tmp());
    expect(describeStt(s)).toMatchObject({
      ok: true,
      detail: `voice notes: local Whisper (sherpa-onnx), model in ${model}`,
    });
    await expect(createEngine(s)!.transcribe(new Float32Array(SAMPLE_RATE))).rejects.toThrow(
      /the speech model in .* could not be loaded \(Load model from .*tiny-encoder\.int8\.onnx failed/,
    );
  });
});

describe('the first-use model download', () => {
  const files: Record<string, Buffer> = {
    'm-encoder.onnx': crypto.randomBytes(300_000),
    'm-tokens.txt': Buffer.from('a 0\n'),
  };
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const body = files[decodeURIComponent(req.url!.replace('/models/', ''))];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

  it('downloads each file with progress and installs it once its checksum matches', async () => {
    const dir = path.join(tmp(), 'whisper');
    const seen: string[] = [];
    await fetchModel({ url, sha256: Object.fromEntries(Object.entries(files).map(([f, b]) => [f, sha(b)])) }, dir, {
      onProgress: (f, done, total) => seen.push(progressBar(f, done, total)),
    });
    for (const [f, b] of Object.entries(files)) expect(fs.readFileSync(path.join(dir, f)).equals(b)).toBe(true);
    expect(seen.at(-1)).toMatch(/^m-tokens\.txt \[#{30}\] 0\.0\/0\.0 MB$/);
    expect(seen.some((l) => /^m-encoder\.onnx \[#+\.*\] [\d.]+\/0\.3 MB$/.test(l))).toBe(true);
  });

  it('refuses a file whose checksum does not match, and leaves nothing behind', async () => {
    const dir = path.join(tmp(), 'whisper');
    const wrong = 'f'.repeat(64);
    const err = await fetchModel({ url, sha256: { 'm-encoder.onnx': wrong } }, dir).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumMismatch);
    expect(err.message).toContain(`has sha256 ${sha(files['m-encoder.onnx'])}, not the expected ${wrong}`);
    expect(err.message).toContain('check NANOCLAW_STT_MODEL_URL and NANOCLAW_STT_MODEL_SHA256');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('the local engine fetches its model on first use, then loads it', async () => {
    const data = tmp();
    const env = {
      NANOCLAW_STT_MODEL_URL: url,
      NANOCLAW_STT_MODEL_SHA256: `m-encoder.onnx=${sha(files['m-encoder.onnx'])}`,
    };
    const s = sttSettings(env, data);
    expect(describeStt(s).detail).toContain('model fetched on first use');
    // Only an encoder is served: the download works, and the engine then says the model is incomplete.
    await expect(createEngine(s)!.transcribe(new Float32Array(10))).rejects.toThrow('no speech model in');
    expect(fs.existsSync(path.join(data, 'models', 'whisper', 'm-encoder.onnx'))).toBe(true);
  });
});

describe('settings', () => {
  it('picks the OpenAI-compatible engine when only its URL is set, and rejects nonsense', () => {
    expect(sttSettings({ NANOCLAW_STT_URL: 'http://127.0.0.1:9/v1/' }, '/d')).toMatchObject({
      engine: 'openai',
      url: 'http://127.0.0.1:9/v1',
    });
    expect(() => sttSettings({ NANOCLAW_STT: 'loud' }, '/d')).toThrow('NANOCLAW_STT must be local, openai or off');
    expect(() => sttSettings({ NANOCLAW_STT_MODEL_URL: 'http://x', NANOCLAW_STT_MODEL_SHA256: 'a=b' }, '/d')).toThrow(
      'is not file=<sha256 hex>',
    );
  });
});

describe('the voice step', () => {
  it('keeps a chat in order: a text sent after a voice note waits for its transcript', async () => {
    const dir = tmp();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: SttEngine = {
      name: 'slow',
      transcribe: async () => {
        await gate;
        return 'first, spoken';
      },
    };
    const step = createVoiceStep({ engine: slow, groupDirFor: () => dir, logger: quiet });
    const got: string[] = [];
    step.receive(voiceMessage(dir, synthesizeVoiceNote('first').ogg), (m) => got.push(m.text));
    step.receive({ ...voiceMessage(dir, Buffer.alloc(0), 'x'), attachments: undefined, text: 'second, typed' }, (m) =>
      got.push(m.text),
    );
    step.receive(
      { ...voiceMessage(dir, Buffer.alloc(0), 'y', 'tg:other'), attachments: undefined, text: 'other chat' },
      (m) => got.push(m.text),
    );
    expect(got).toEqual(['other chat']);
    release();
    await step.idle();
    expect(got).toEqual(['other chat', 'first, spoken', 'second, typed']);
  });

  it('does not read an audio file through a link the agent put in its inbox', async () => {
    const dir = tmp();
    const secret = path.join(tmp(), 'secret.wav');
    fs.writeFileSync(secret, toWav(new Float32Array(SAMPLE_RATE)));
    const msg = voiceMessage(dir, Buffer.alloc(0));
    fs.rmSync(path.join(dir, 'inbox', 'v1.ogg'));
    fs.symlinkSync(secret, path.join(dir, 'inbox', 'v1.ogg'));
    const heard: Float32Array[] = [];
    const engine: SttEngine = { name: 'spy', transcribe: async (pcm) => (heard.push(pcm), 'secret') };
    const out = await transcribeMessage({ engine, groupDirFor: () => dir, logger: quiet }, msg);
    expect(heard).toEqual([]);
    expect(out.text).toBe('[voice note, not transcribed: the audio file in the inbox is a link]');
  });

  it('refuses an audio file over the size cap with the reason, without reading it', async () => {
    const dir = tmp();
    const msg = voiceMessage(dir, Buffer.alloc(0));
    // 8 GB, sparse: reading it whole would take the disk's time and the host's memory, or fail with another reason.
    fs.truncateSync(path.join(dir, 'inbox', 'v1.ogg'), 8 * 1024 ** 3);
    const heard: Float32Array[] = [];
    const engine: SttEngine = { name: 'spy', transcribe: async (pcm) => (heard.push(pcm), 'never') };
    const out = await transcribeMessage({ engine, groupDirFor: () => dir, logger: quiet }, msg);
    expect(heard).toEqual([]);
    expect(out.text).toBe(
      `[voice note, not transcribed: the audio is larger than ${MAX_AUDIO_BYTES / 1024 / 1024} MB]`,
    );
  });

  it('refuses a pipe the agent put in its inbox at once, instead of waiting on it or reading it without end', async () => {
    const dir = tmp();
    const msg = voiceMessage(dir, Buffer.alloc(0));
    const fifo = path.join(dir, 'inbox', 'v1.ogg');
    fs.rmSync(fifo);
    execFileSync('mkfifo', [fifo]);
    // A writer that holds the pipe open for a while: a reader that waits for its end waits that long.
    const writer = spawn('sh', ['-c', `exec 3>"$1"; sleep 5`, 'sh', fifo], { stdio: 'ignore' });
    try {
      const engine: SttEngine = { name: 'spy', transcribe: async () => 'never' };
      const started = Date.now();
      const out = await transcribeMessage({ engine, groupDirFor: () => dir, logger: quiet }, msg);
      expect(out.text).toBe('[voice note, not transcribed: the audio in the inbox is not a plain file]');
      // Refused without waiting for the writer to finish.
      expect(writer.exitCode).toBeNull();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      writer.kill();
    }
  });
});

describe('the transcription service', () => {
  it('an answer without end is cut at its cap and the connection dropped', async () => {
    let droppedByUs = false;
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"text":"');
      const chunk = 'a'.repeat(64 * 1024);
      let sent = 0;
      res.on('close', () => (droppedByUs = sent < 64 * 1024 * 1024));
      const more = (): void => {
        while (!res.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('"}');
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const engine = createOpenAiEngine({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        apiKey: '',
        model: 'm',
      });
      await expect(engine.transcribe(new Float32Array(SAMPLE_RATE))).rejects.toThrow(
        "the transcription service's answer was larger than 1 MB; the connection was dropped",
      );
      await until(() => droppedByUs, 5_000, 'the connection to drop');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
