// The health plugin: what the model API's answers mean for the chats and the owner
// (model-health.ts: a delay notice after a while, the owner told at once of a
// refused credential, the chat told when the upstream does not answer at all), each model call's tokens kept (store.ts) and shown
// (GET /api/usage, api.ts), and the error that matters now in GET /api/status.
import type { StatusResponse } from '../../core/api/types.js';
import { describeProblem, type ModelProblem } from '../../core/gateway/model-problem.js';
import type { Plugin } from '../../core/plugin.js';
import { usageApi } from './api.js';
import { createModelHealth, envMs, type ModelHealth } from './model-health.js';
import { usageStore, migrations } from './store.js';

declare module '../../core/api/types.js' {
  interface StatusResponse {
    lastError: { at: string; message: string; chatJid: string | null } | null;
    /** null once a model call succeeds. */
    modelError?: ModelProblem | null;
  }
}

type UsageQueries = ReturnType<typeof usageStore>['usage'];

/**
 * The fields of GET /api/status this plugin answers: while the model API fails, that is the error that matters.
 * `since` is when this run of the host started.
 */
export function healthStatus(
  modelHealth: Pick<ModelHealth, 'current' | 'recoveredAt'>,
  usage: Pick<UsageQueries, 'recentErrors'>,
  since: string,
): Pick<StatusResponse, 'lastError' | 'modelError'> {
  const recovered = modelHealth.recoveredAt();
  const recent = usage.recentErrors(1)[0];
  // An error from an earlier run, or from before the model API worked again, is history (the Activity page keeps it
  // with its time), not the current state.
  const over = recent && (recent.at < since || (recovered && recent.at <= recovered));
  const last = over ? undefined : recent;
  const model = modelHealth.current();
  return {
    lastError: model
      ? { at: model.at, message: `${describeProblem(model)}.`, chatJid: null }
      : last
        ? { at: last.at, message: last.message, chatJid: last.chatJid }
        : null,
    modelError: model
      ? { at: model.at, kind: model.kind, status: model.status, message: model.message, fix: model.fix }
      : null,
  };
}

export const health: Plugin = {
  name: 'health',
  store: usageStore,
  migrations,
  setup(core) {
    const { store } = core;
    const startedAt = new Date((core.now ?? Date.now)()).toISOString();
    const modelHealth = createModelHealth({
      delayNoticeMs: envMs(core.config.env, 'NANOCLAW_DELAY_NOTICE_MS', 30_000),
      silenceMs: envMs(core.config.env, 'NANOCLAW_MODEL_SILENCE_MS', 45_000),
      upstream: core.config.anthropicBaseUrl,
      tell: (jid, text) => store.outbox.enqueue(jid, text, { kind: 'system' }),
      tellOwner: core.notifyOwner,
      recordError: (folder, jid, text) => store.usage.recordError(folder, jid, text),
      isMain: (jid) => !!store.groups.get(jid)?.isMain,
    });
    return {
      gateway: {
        onUsage: (u) => store.usage.record(u),
        onModelCall: modelHealth.report,
        onModelRequest: modelHealth.request,
      },
      // The queue gave up on a chat: no delay notice after that (the host tells it why).
      // The chat was told why its answer failed; the Activity page keeps it too.
      onGiveUp: (jid, told) => {
        modelHealth.settle(jid);
        store.usage.recordError(store.groups.get(jid)?.folder ?? null, jid, told);
      },
      api: (app) => {
        app.route('/', usageApi({ store, timezone: core.config.timezone, now: core.now }));
      },
      status: () => healthStatus(modelHealth, store.usage, startedAt),
      drain: () => modelHealth.stop(),
    };
  },
};
