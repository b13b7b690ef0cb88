// Container runtimes: Docker, Podman and Apple's container, each running the agent image.
import type { Plugin } from '../../core/plugin.js';
import { installId } from '../../core/sandbox/install-id.js';
import type { RuntimeContext } from '../../core/sandbox/runtimes.js';
import { createAppleRuntime } from './apple.js';
import { createDockerRuntime } from './docker.js';
import { defaultImageTag } from './image.js';
import { createPodmanRuntime } from './podman.js';

const image = (ctx: RuntimeContext) => ({
  image: ctx.env?.NANOCLAW_IMAGE?.trim() || defaultImageTag(ctx.home),
  installId: installId(ctx.home),
});

export const containers: Plugin = {
  name: 'containers',
  runtimes: {
    docker: (ctx) => createDockerRuntime(image(ctx)),
    podman: (ctx) => createPodmanRuntime(image(ctx)),
    apple: (ctx) => createAppleRuntime(image(ctx)),
  },
};
