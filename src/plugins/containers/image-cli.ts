// `container/build.sh [docker|podman|apple] [--tag NAME] [--home DIR]`: builds the
// agent image from the shell, through the same buildImage as `nanoclaw image build`.
import { buildImage, type ImageRuntime } from './image.js';

async function main(argv: string[]): Promise<void> {
  let runtime: ImageRuntime = process.platform === 'darwin' ? 'apple' : 'docker';
  let tag: string | undefined;
  let home = process.env.NANOCLAW_HOME || process.cwd();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === 'docker' || a === 'podman' || a === 'apple') runtime = a;
    else if (a === '--tag') tag = argv[++i];
    else if (a === '--home') home = argv[++i];
    else throw new Error(`Unknown argument "${a}": use [docker|podman|apple] [--tag NAME] [--home DIR].`);
  }
  const { tag: built } = await buildImage(runtime, (line) => process.stdout.write(line + '\n'), {
    home,
    tag: tag ?? (process.env.NANOCLAW_IMAGE || undefined),
  });
  process.stdout.write(`The agent image is ready: ${built}\n`);
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
