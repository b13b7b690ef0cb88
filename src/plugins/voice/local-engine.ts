// The local engine: a Whisper model run by sherpa-onnx (prebuilt native
// addon from the registry, no compiler). Loaded once, on the first voice note,
// fetching the model first when it is not there yet. Language: auto-detected.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SAMPLE_RATE } from './audio.js';
import type { SttEngine } from './engine.js';
import { fetchModel, type ModelSource } from './model-fetch.js';

export interface LocalEngineOptions {
  modelDir: string;
  download: ModelSource | null;
  fetch?: typeof fetch;
  onProgress?(file: string, done: number, total: number | null): void;
  threads?: number;
}

export interface ModelFiles {
  encoder: string;
  decoder: string;
  tokens: string;
}

/** The Whisper model files in a folder (sherpa-onnx's naming: `<name>-encoder[.int8].onnx` …), or null. */
export function findModelFiles(dir: string): ModelFiles | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return null;
  }
  // The int8 files are a quarter the size and as good for speech notes.
  const pick = (re: RegExp) =>
    names.filter((n) => re.test(n)).sort((a, b) => Number(b.includes('int8')) - Number(a.includes('int8')))[0];
  const encoder = pick(/encoder.*\.onnx$/);
  const decoder = pick(/decoder.*\.onnx$/);
  const tokens = pick(/tokens\.txt$/);
  if (!encoder || !decoder || !tokens) return null;
  return { encoder: path.join(dir, encoder), decoder: path.join(dir, decoder), tokens: path.join(dir, tokens) };
}

interface Recognizer {
  createStream(): { acceptWaveform(w: { sampleRate: number; samples: Float32Array }): void };
  decodeAsync(stream: unknown): Promise<void>;
  getResult(stream: unknown): { text: string };
}

export function createLocalEngine(o: LocalEngineOptions): SttEngine {
  let loading: Promise<Recognizer> | null = null;
  const load = async (): Promise<Recognizer> => {
    let files = findModelFiles(o.modelDir);
    if (!files && o.download) {
      await fetchModel(o.download, o.modelDir, { fetch: o.fetch, onProgress: o.onProgress });
      files = findModelFiles(o.modelDir);
    }
    if (!files) throw new Error(`no speech model in ${o.modelDir} (run nanoclaw doctor)`);
    const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
      OfflineRecognizer: { createAsync(config: unknown): Promise<Recognizer> };
    };
    try {
      return await sherpa.OfflineRecognizer.createAsync({
        featConfig: { sampleRate: SAMPLE_RATE, featureDim: 80 },
        modelConfig: {
          whisper: { encoder: files.encoder, decoder: files.decoder, language: '', task: 'transcribe' },
          tokens: files.tokens,
          numThreads: o.threads ?? 2,
          provider: 'cpu',
          debug: 0,
        },
      });
    } catch (err) {
      throw new Error(
        `the speech model in ${o.modelDir} could not be loaded (${(err as Error).message}); replace it or set NANOCLAW_STT_MODEL`,
      );
    }
  };
  return {
    name: 'local',
    async transcribe(pcm) {
      loading ??= load();
      // A failed load is tried again on the next note (the model may have been put in place since).
      const rec = await loading.catch((err) => {
        loading = null;
        throw err;
      });
      const stream = rec.createStream();
      stream.acceptWaveform({ sampleRate: SAMPLE_RATE, samples: pcm });
      await rec.decodeAsync(stream);
      return rec.getResult(stream).text.trim();
    },
  };
}
