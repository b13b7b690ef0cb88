// `nanoclaw image build [docker|podman|apple] [--tag NAME]`: builds the agent
// image, with one live progress line on a terminal (the step and what it is
// doing) and the full build output when piped.
import type { Config } from '../core/config/config.js';
import { buildImage, type ImageRuntime } from '../plugins/containers/image.js';
import { option, paint, positional } from './term.js';

/** "[3/8]" from BuildKit ("#7 [3/8] RUN …") or "Step 3/8" from the classic builder. */
export function buildStep(line: string): { step: number; total: number; what: string } | null {
  const m = /\[(?:[\w-]+ )?(\d+)\/(\d+)\]\s*(.*)$/.exec(line) ?? /^(?:STEP|Step) (\d+)\/(\d+)\s*:?\s*(.*)$/.exec(line);
  return m ? { step: Number(m[1]), total: Number(m[2]), what: m[3] } : null;
}

export function progressDisplay(out: NodeJS.WriteStream): { line(text: string): void; done(): void } {
  if (!out.isTTY) return { line: (t) => out.write(t + '\n'), done: () => {} };
  const p = paint(out);
  let step = '';
  let shown = false;
  const width = () => Math.max(20, (out.columns ?? 80) - 1);
  return {
    line(text) {
      const s = buildStep(text);
      if (s) step = `[${s.step}/${s.total}] ${s.what}`;
      const body = step ? `${p.bold(step.slice(0, 60))} ${p.dim(text.slice(0, 200))}` : text;
      const plain = body.replace(/\x1b\[[0-9;]*m/g, '');
      const cut = plain.length > width() ? plain.slice(0, width() - 1) + '…' : plain;
      out.write(`\r\x1b[2K${step && plain === cut ? body : cut}`);
      shown = true;
    },
    done() {
      if (shown) out.write('\r\x1b[2K');
    },
  };
}

export async function imageCommand(args: string[], config: Config): Promise<number> {
  const [sub, which] = positional(args, ['--tag']);
  if (sub !== 'build') {
    process.stderr.write('Usage: nanoclaw image build [docker|podman|apple] [--tag NAME]\n');
    return 2;
  }
  const fromConfig =
    config.runtime === 'docker' || config.runtime === 'podman' || config.runtime === 'apple' ? config.runtime : null;
  const runtime = (which ?? fromConfig ?? (process.platform === 'darwin' ? 'apple' : 'docker')) as ImageRuntime;
  if (!['docker', 'podman', 'apple'].includes(runtime)) {
    process.stderr.write(`"${runtime}" does not use an image: pick docker, podman or apple. (bwrap needs no image.)\n`);
    return 2;
  }
  const out = process.stdout;
  const p = paint(out);
  out.write(`Building the agent image for ${runtime}… (the first build downloads a few hundred MB)\n`);
  const progress = progressDisplay(out);
  try {
    const { tag } = await buildImage(runtime, progress.line, {
      home: config.home,
      tag: option(args, '--tag') ?? (config.env.NANOCLAW_IMAGE?.trim() || undefined),
    });
    progress.done();
    out.write(`${p.ok('✓')} The agent image is ready: ${tag}\n`);
    return 0;
  } catch (err) {
    progress.done();
    process.stderr.write(`${p.bad('✗')} ${(err as Error).message}\n`);
    return 1;
  }
}
