// Voice notes: how long transcription takes per second of audio, and how much
// later the agent starts for a voice note than for typed text (the note is
// decoded and transcribed before routing). Speech is espeak-ng's, as in the tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeToPcm16k } from '../src/plugins/voice/audio.js';
import { createEngine, sttSettings, type SttEngine } from '../src/plugins/voice/engine.js';
import { createVoiceStep, transcribeFile } from '../src/plugins/voice/transcribe.js';
import type { Message } from '../src/core/types.js';
import { startFakeStt } from '../test/support/fake-stt.js';
import { moonshineModelDir } from '../test/support/moonshine.js';
import { synthesizeVoiceNote } from '../test/support/speech.js';

type RowFn = (area: string, metric: string, value: string, target?: string, met?: boolean) => void;

const SENTENCE = 'Andy, please remind me to water the plants on the balcony every Sunday morning before breakfast.';

export async function benchVoice(row: RowFn, quick: boolean): Promise<void> {
  const runs = quick ? 3 : 10;
  let note: { ogg: Buffer; seconds: number };
  try {
    note = synthesizeVoiceNote(SENTENCE);
  } catch (err) {
    row(
      'voice',
      'transcription',
      `not measured: ${(err as Error).message.split('\n')[0]} (apt-get install espeak-ng opus-tools)`,
    );
    return;
  }
  const { ogg, seconds } = note;
  const msPerSecond = (total: number) => `${(total / runs / seconds).toFixed(1)} ms per s of audio`;

  let t = performance.now();
  for (let i = 0; i < runs; i++) await decodeToPcm16k(ogg);
  row('voice', `decode Ogg/Opus → 16 kHz (${seconds.toFixed(1)} s note)`, msPerSecond(performance.now() - t));

  const stt = await startFakeStt(() => ({ text: SENTENCE }));
  try {
    const remote = createEngine(sttSettings({ NANOCLAW_STT_URL: stt.url }, os.tmpdir()))!;
    t = performance.now();
    for (let i = 0; i < runs; i++) await transcribeFile(remote, ogg);
    row('voice', 'OpenAI-compatible engine, local fake service (host side only)', msPerSecond(performance.now() - t));
    await localEngine(row, ogg, runs, msPerSecond);
    await moonshineEngine(row, ogg, runs, msPerSecond);
    await addedLatency(row, remote, ogg, runs, 'remote engine');
  } finally {
    await stt.close();
  }
}

/** The local engine, when this machine has a model (NANOCLAW_STT_MODEL). */
async function localEngine(row: RowFn, ogg: Buffer, runs: number, msPerSecond: (t: number) => string): Promise<void> {
  const dir = process.env.NANOCLAW_STT_MODEL;
  if (!dir) {
    row('voice', 'local engine (sherpa-onnx Whisper)', 'not measured: set NANOCLAW_STT_MODEL to a model folder');
    return;
  }
  const local = createEngine(sttSettings({ NANOCLAW_STT_MODEL: dir }, os.tmpdir()))!;
  await transcribeFile(local, ogg); // loads the model
  const t = performance.now();
  for (let i = 0; i < runs; i++) await transcribeFile(local, ogg);
  row('voice', `local engine (sherpa-onnx Whisper, ${path.basename(dir)})`, msPerSecond(performance.now() - t));
}

/** The Moonshine engine with the tiny model its npm package ships (packed into .cache/models by .ci/run). */
async function moonshineEngine(
  row: RowFn,
  ogg: Buffer,
  runs: number,
  msPerSecond: (t: number) => string,
): Promise<void> {
  const metric = 'local engine (Moonshine tiny, onnxruntime, 2 threads)';
  let dir: string;
  try {
    dir = await moonshineModelDir();
  } catch (err) {
    row('voice', metric, `not measured: ${(err as Error).message}`);
    return;
  }
  const engine = createEngine(sttSettings({ NANOCLAW_STT_MODEL: dir }, os.tmpdir()))!;
  let t = performance.now();
  const heard = await transcribeFile(engine, ogg);
  row(
    'voice',
    `${metric}: first note, model load included`,
    `${(performance.now() - t).toFixed(0)} ms; heard "${heard}"`,
  );
  t = performance.now();
  for (let i = 0; i < runs; i++) await transcribeFile(engine, ogg);
  row('voice', metric, msPerSecond(performance.now() - t));
  await addedLatency(row, engine, ogg, runs, 'Moonshine tiny');
}

/** From the channel handing the note over to routing seeing it, against a typed message (which goes straight through). */
async function addedLatency(row: RowFn, engine: SttEngine, ogg: Buffer, runs: number, label: string): Promise<void> {
  const group = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-bench-voice-'));
  fs.mkdirSync(path.join(group, 'inbox'));
  fs.writeFileSync(path.join(group, 'inbox', 'note.ogg'), ogg);
  const step = createVoiceStep({ engine, groupDirFor: () => group, logger: { warn: () => {}, info: () => {} } });
  const samples: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const msg: Message = {
        id: `v${i}`,
        chatJid: 'tg:1',
        sender: 'tg:7',
        senderName: 'Alice',
        text: '[voice message]',
        timestamp: new Date().toISOString(),
        fromMe: false,
        fromAssistant: false,
        attachments: [{ kind: 'audio', path: 'inbox/note.ogg', mimeType: 'audio/ogg' }],
      };
      const t0 = performance.now();
      await new Promise<void>((resolve) => step.receive(msg, () => resolve()));
      samples.push(performance.now() - t0);
    }
  } finally {
    fs.rmSync(group, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  row(
    'voice',
    `added latency before the agent starts (${label}, ${samples.length} notes), median`,
    `${median.toFixed(0)} ms`,
  );
}
