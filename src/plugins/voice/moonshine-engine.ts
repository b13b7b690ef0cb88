// A second local engine: Moonshine (English), an encoder and a decoder with a
// key/value cache exported for ONNX (encoder_model.onnx,
// decoder_model_merged.onnx), run by onnxruntime-node's prebuilt CPU addon and
// decoded with the Llama tokenizer the model was trained with. Small (28 MB
// quantized) and fast on a CPU; a registry package ships it (see model-fetch.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { SAMPLE_RATE } from './audio.js';
import type { SttEngine } from './engine.js';
import { fetchModel, type ModelSource } from './model-fetch.js';

export const MOONSHINE_FILES = ['encoder_model.onnx', 'decoder_model_merged.onnx'] as const;

/** The model's fixed tokens (Llama's <s> and </s>). */
const START_TOKEN = 1;
const END_TOKEN = 2;
/** Speech holds well under 6 tokens a second: the cap only stops a decoder that never ends. */
const TOKENS_PER_SECOND = 6;

export interface MoonshineOptions {
  modelDir: string;
  download: ModelSource | null;
  fetch?: typeof fetch;
  onProgress?(file: string, done: number, total: number | null): void;
  threads?: number;
}

/** True when the folder holds a Moonshine export. */
export function isMoonshineModel(dir: string): boolean {
  return MOONSHINE_FILES.every((f) => fs.existsSync(path.join(dir, f)));
}

type Ort = typeof import('onnxruntime-node');

interface Model {
  ort: Ort;
  encoder: InferenceSession;
  decoder: InferenceSession;
  /** Inputs of the decoder's cache (`past_key_values.<layer>.<decoder|encoder>.<key|value>`), and their per-head shape. */
  pastNames: string[];
  heads: number;
  headDim: number;
  decode(tokens: number[]): string;
}

export function createMoonshineEngine(o: MoonshineOptions): SttEngine {
  let loading: Promise<Model> | null = null;
  return {
    name: 'moonshine',
    async transcribe(pcm) {
      loading ??= loadModel(o);
      // A failed load is tried again on the next note (the model may have been put in place since).
      const model = await loading.catch((err) => {
        loading = null;
        throw err;
      });
      return (await generate(model, pcm)).trim();
    },
  };
}

async function loadModel(o: MoonshineOptions): Promise<Model> {
  if (!isMoonshineModel(o.modelDir) && o.download)
    await fetchModel(o.download, o.modelDir, { fetch: o.fetch, onProgress: o.onProgress });
  if (!isMoonshineModel(o.modelDir)) throw new Error(`no speech model in ${o.modelDir} (run nanoclaw doctor)`);
  const ort = (await import('onnxruntime-node')) as Ort;
  const { default: tokenizer } = await import('llama-tokenizer-js');
  const options: InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: o.threads ?? 2 };
  try {
    const encoder = await ort.InferenceSession.create(path.join(o.modelDir, MOONSHINE_FILES[0]), options);
    const decoder = await ort.InferenceSession.create(path.join(o.modelDir, MOONSHINE_FILES[1]), options);
    const pastNames = decoder.inputNames.filter((n) => n.startsWith('past_key_values.'));
    const shape = cacheShape(decoder, pastNames[0]);
    return {
      ort,
      encoder,
      decoder,
      pastNames,
      ...shape,
      decode: (t) => tokenizer.decode(t.filter((id) => id < tokenizer.vocabById.length)),
    };
  } catch (err) {
    throw new Error(
      `the Moonshine model in ${o.modelDir} could not be loaded (${(err as Error).message}); replace it or set NANOCLAW_STT_MODEL`,
    );
  }
}

/** Heads and head size from the decoder's declared cache input ([batch, heads, length, headDim]). */
function cacheShape(decoder: InferenceSession, name: string | undefined): { heads: number; headDim: number } {
  const meta = decoder.inputMetadata.find((m) => m.name === name);
  const dims = meta && meta.isTensor ? meta.shape : [];
  if (!name || typeof dims[1] !== 'number' || typeof dims[3] !== 'number') {
    throw new Error('its decoder has no past_key_values inputs of a known shape (is it decoder_model_merged.onnx?)');
  }
  return { heads: dims[1], headDim: dims[3] };
}

/** Greedy decoding: the encoder reads the audio once, then the decoder adds one token at a time, reusing its cache. */
async function generate(m: Model, pcm: Float32Array): Promise<string> {
  const { ort } = m;
  const maxTokens = Math.max(1, Math.trunc((pcm.length / SAMPLE_RATE) * TOKENS_PER_SECOND));
  const { last_hidden_state: hidden } = await m.encoder.run({
    input_values: new ort.Tensor('float32', pcm, [1, pcm.length]),
  });
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, m.heads, 0, m.headDim]);
  let past: Record<string, Tensor> = Object.fromEntries(m.pastNames.map((n) => [n, empty]));
  const tokens: number[] = [];
  let next = START_TOKEN;
  for (let step = 0; step < maxTokens; step++) {
    const out = await m.decoder.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(next)), [1, 1]),
      encoder_hidden_states: hidden,
      use_cache_branch: new ort.Tensor('bool', [step > 0], [1]),
      ...past,
    });
    next = argMax(out.logits.data as Float32Array);
    if (next === END_TOKEN) break;
    tokens.push(next);
    // The encoder's part of the cache is computed on the first step only; the decoder's part grows every step.
    past = Object.fromEntries(
      m.pastNames.map((n) => [
        n,
        step > 0 && n.includes('.encoder.') ? past[n] : out[n.replace('past_key_values.', 'present.')],
      ]),
    );
  }
  return m.decode(tokens);
}

function argMax(xs: Float32Array): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
