// Building the agent image (container/Dockerfile) for docker, podman or Apple
// Container, tagged and labelled for one install. The build context is staged
// in a temporary folder holding only what the image needs, so nothing from the
// home (.env, store/, groups/) can end up in a layer.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../core/config/project-root.js';
import { cliEnv } from './container-cli.js';
import { installId } from '../../core/sandbox/install-id.js';

export const defaultImageTag = (home: string) => `nanoclaw-agent-${installId(home)}:latest`;

export type ImageRuntime = 'docker' | 'podman' | 'apple';

export interface BuildImageOptions {
  /** The install's home (NANOCLAW_HOME): the tag and labels come from it. */
  home: string;
  /** Overrides the per-install tag (NANOCLAW_IMAGE). */
  tag?: string;
  /** Overrides the CLI binary. */
  cli?: string;
}

const CLI: Record<ImageRuntime, string> = { docker: 'docker', podman: 'podman', apple: 'container' };

/** Identifies the runner code an image carries. */
export function runnerHash(runnerDir: string): string {
  const hash = crypto.createHash('sha256');
  for (const f of fs
    .readdirSync(runnerDir)
    .filter((n) => n.endsWith('.js'))
    .sort())
    hash.update(fs.readFileSync(path.join(runnerDir, f)));
  return hash.digest('hex').slice(0, 12);
}

function stageContext(root: string): string {
  const runner = path.join(root, 'dist', 'runner');
  if (!fs.existsSync(path.join(runner, 'index.js')))
    throw new Error(`The runner is not built (${runner} is missing): run "npm run build" first.`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanoclaw-image-'));
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  fs.copyFileSync(path.join(root, 'container', 'Dockerfile'), path.join(dir, 'Dockerfile'));
  fs.cpSync(runner, path.join(dir, 'runner'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  // Each plugin's runner.ts, loaded by the runner from /app/plugins (mounted there where the host's /app is used).
  const plugins = path.join(root, 'dist', 'src', 'plugins');
  fs.mkdirSync(path.join(dir, 'plugins'));
  for (const name of fs.readdirSync(plugins)) {
    const file = path.join(plugins, name, 'runner.js');
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(dir, 'plugins', `${name}.js`));
  }
  return dir;
}

/** Builds the image, reporting each line of the build's output; resolves with the tag. */
export async function buildImage(
  runtime: ImageRuntime,
  onProgress: (line: string) => void,
  opts: BuildImageOptions,
): Promise<{ tag: string }> {
  const root = projectRoot();
  const tag = opts.tag ?? defaultImageTag(opts.home);
  const cli = opts.cli ?? CLI[runtime];
  const context = stageContext(root);
  const args = [
    'build',
    '-t',
    tag,
    '-f',
    path.join(context, 'Dockerfile'),
    '--build-arg',
    `NANOCLAW_INSTALL=${installId(opts.home)}`,
    '--build-arg',
    `NANOCLAW_RUNNER=${runnerHash(path.join(root, 'dist', 'runner'))}`,
    context,
  ];
  onProgress(`${cli} ${args.join(' ')}`);
  const tail: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cli, args, { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let partial = '';
      const onData = (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = lines.pop() ?? '';
        for (const line of lines)
          if (line.trim()) {
            onProgress(line);
            tail.push(line);
            if (tail.length > 20) tail.shift();
          }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', (err) =>
        reject(
          new Error(
            (err as NodeJS.ErrnoException).code === 'ENOENT'
              ? `${cli} is not installed: install ${runtime === 'apple' ? 'Apple Container' : runtime} first.`
              : `${cli} could not start: ${err.message}`,
          ),
        ),
      );
      child.on('close', (code) => {
        if (partial.trim()) onProgress(partial);
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `The image build failed (${cli} exited with ${code}). Last lines:\n${tail.join('\n')}\nWithout a registry, use container/build-local-rootfs.sh.`,
            ),
          );
      });
    });
  } finally {
    fs.rmSync(context, { recursive: true, force: true });
  }
  onProgress(`built ${tag}`);
  return { tag };
}
