// Voice notes: transcribed before routing, so a spoken trigger triggers and the agent reads what was said.
import type { Plugin } from '../../core/plugin.js';
import { createEngine, downloadProgress, sttSettings } from './engine.js';
import { createVoiceStep, groupDirOf } from './transcribe.js';

export const voice: Plugin = {
  name: 'voice',
  setup({ config, paths, store, logger }) {
    const step = createVoiceStep({
      engine: createEngine(sttSettings(config.env, paths.data), { onProgress: downloadProgress(logger) }),
      groupDirFor: groupDirOf({ store, paths }),
      logger,
    });
    return { receive: step.receive };
  },
};
