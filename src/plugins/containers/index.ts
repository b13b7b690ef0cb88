// Container runtimes: Docker, Podman and Apple's container, each running the agent image.
import type { Plugin } from '../../core/plugin.js';
import { resolved } from '../../core/sandbox/runtimes.js';
import { createAppleRuntime } from './apple.js';
import { createDockerRuntime } from './docker.js';
import { createPodmanRuntime } from './podman.js';

const image = (ctx: Parameters<typeof resolved>[0]) => {
  const r = resolved(ctx);
  return { image: r.image, installId: r.install };
};

export const containers: Plugin = {
  name: 'containers',
  runtimes: {
    docker: (ctx) => createDockerRuntime(image(ctx)),
    podman: (ctx) => createPodmanRuntime(image(ctx)),
    apple: (ctx) => createAppleRuntime(image(ctx)),
  },
};
