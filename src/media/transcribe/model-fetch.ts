// The local model, fetched on first use into the home: each file downloaded
// beside its final name, checked against its sha256, and only then renamed into
// place, so a cut-off or tampered download is never taken for a model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A folder URL holding the model files, with the sha256 of each file to fetch. */
export interface ModelSource {
  url: string;
  sha256: Record<string, string>;
}

export class ChecksumMismatch extends Error {}

export interface FetchDeps {
  fetch?: typeof fetch;
  onProgress?(file: string, done: number, total: number | null): void;
}

/** Downloads every file of the source into dir (skipping those already there). */
export async function fetchModel(src: ModelSource, dir: string, deps: FetchDeps = {}): Promise<void> {
  const files = Object.keys(src.sha256);
  if (!files.length) throw new Error('NANOCLAW_STT_MODEL_URL is set but NANOCLAW_STT_MODEL_SHA256 names no file to fetch.');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of files) {
    if (path.basename(file) !== file) throw new Error(`model file name "${file}" must not contain a folder`);
    const dest = path.join(dir, file);
    if (fs.existsSync(dest)) continue;
    await fetchFile(`${src.url.replace(/\/+$/, '')}/${encodeURIComponent(file)}`, dest, src.sha256[file], deps);
  }
}

async function fetchFile(url: string, dest: string, sha256: string, deps: FetchDeps): Promise<void> {
  const res = await (deps.fetch ?? fetch)(url);
  if (!res.ok || !res.body) throw new Error(`could not download the speech model from ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || null;
  const part = `${dest}.part`;
  const out = fs.createWriteStream(part, { mode: 0o644 });
  const hash = crypto.createHash('sha256');
  let done = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      done += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      deps.onProgress?.(path.basename(dest), done, total);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const got = hash.digest('hex');
    if (got !== sha256) {
      throw new ChecksumMismatch(
        `the speech model file ${path.basename(dest)} from ${url} has sha256 ${got}, not the expected ${sha256}: ` +
          'nothing was installed; check NANOCLAW_STT_MODEL_URL and NANOCLAW_STT_MODEL_SHA256.',
      );
    }
    fs.renameSync(part, dest);
  } finally {
    out.destroy();
    fs.rmSync(part, { force: true });
  }
}

/** A one-line progress bar for a terminal. */
export function progressBar(file: string, done: number, total: number | null, width = 30): string {
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  if (!total) return `${file} ${mb(done)} MB`;
  const filled = Math.round((Math.min(done, total) / total) * width);
  return `${file} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mb(done)}/${mb(total)} MB`;
}
