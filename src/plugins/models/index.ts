// A model per chat: each chat's model and effort (sandbox.model, sandbox.effort: `nanoclaw groups set`, the dashboard,
// the API), else the host's (NANOCLAW_MODEL, NANOCLAW_EFFORT in .env), else the SDK's. They reach the SDK through the
// sandbox's environment and runner.ts. A model the upstream refuses is told in the chat with the fix, and listed for
// `status` and `doctor` until the setting changes: runs with it are refused rather than retried.
import type { Identity } from '../../core/gateway/types.js';
import type { Plugin } from '../../core/plugin.js';
import { runnerModule } from '../../core/sandbox/mounts.js';
import type { RegisteredGroup } from '../../core/types.js';
import { chatModel, checkModelSettings, hostDefaults, modelRefusal } from './settings.js';

interface Refused {
  model: string;
  /** The upstream's words. */
  detail: string;
}

export const models: Plugin = {
  name: 'models',
  setup(core) {
    const host = hostDefaults(core.config.env);
    // By folder: the model that was refused, while the chat is still set to it.
    const refused = new Map<string, Refused>();
    const current = (group: RegisteredGroup) => {
      const r = refused.get(group.folder);
      if (r && r.model === chatModel(group, host).model) return r;
      refused.delete(group.folder);
      return null;
    };
    const fix = (group: RegisteredGroup) =>
      group.sandbox.model
        ? `run "nanoclaw groups set ${group.folder} model=<a model id>" (or model=default for the host's model)`
        : 'set NANOCLAW_MODEL in .env to a model the upstream serves (or remove it), then restart';
    const why = (group: RegisteredGroup, r: Refused) =>
      `the model API refused the model "${r.model}" (${r.detail}); to fix it, ${fix(group)}`;

    const noteRefusal = (identity: Identity, res: Response) => {
      if (res.status !== 400 && res.status !== 404) return;
      void res
        .clone()
        .text()
        .then((body) => {
          const detail = modelRefusal(res.status, body);
          const group = core.store.groups.byFolder(identity.groupFolder);
          const model = group && chatModel(group, host).model;
          // Only the model this chat is set to: a side call to another model is not the owner's setting.
          if (!detail || !group || !model || !detail.includes(model)) return;
          refused.set(group.folder, { model, detail });
          core.logger.warn({ group: group.folder, model, detail }, 'the model API refused the chat model');
        })
        .catch(() => {});
    };

    return {
      sandbox({ group }) {
        const { model, effort } = chatModel(group, host);
        const env: Record<string, string> = {};
        if (model) env.NANOCLAW_MODEL = model;
        if (effort) env.NANOCLAW_EFFORT = effort;
        return { env, mounts: [runnerModule('models')] };
      },
      checkSettings: (_group, changed) => checkModelSettings(changed),
      gateway: {
        // Registered before the core reads the answer, so its body can still be cloned.
        onModelRequest: (identity, answered) =>
          void (answered as Promise<Response>).then((res) => noteRefusal(identity, res)).catch(() => {}),
      },
      // The turn that met the refusal failed; its retry, and every run until the setting changes, is refused here
      // with the fix, so the chat hears it once per message instead of a retried failure.
      refuseRun(group) {
        const r = current(group);
        return r ? why(group, r) : null;
      },
      problems: () => [
        ...host.problems,
        ...core.store.groups.list().flatMap((g) => {
          const r = current(g);
          return r ? [`Chat "${g.name}" (groups/${g.folder}): ${why(g, r)}.`] : [];
        }),
      ],
      status: () => ({
        models: {
          default: { model: host.model, effort: host.effort },
          chats: core.store.groups
            .list()
            .filter((g) => g.sandbox.model || g.sandbox.effort)
            .map((g) => ({ folder: g.folder, model: g.sandbox.model ?? null, effort: g.sandbox.effort ?? null })),
        },
      }),
    };
  },
};
