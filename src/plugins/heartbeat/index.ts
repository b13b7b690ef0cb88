// The quiet heartbeat (heartbeat.ts): per chat, off unless `nanoclaw groups set <folder> heartbeat=on` (30 minutes)
// or heartbeat=<minutes>; its decisions in GET /api/heartbeats, and a beat now with POST /api/heartbeats/:folder.
//   GET  /api/heartbeats?folder=x  → { beats: [{ at, groupFolder, decision: quiet|said|skipped|failed, detail }] }
//   POST /api/heartbeats/:folder   → 202 { queued: true }  (one beat as soon as the chat is free)
import { Hono } from 'hono';
import { ApiError } from '../../core/api/errors.js';
import { intSetting } from '../../core/config/config.js';
import type { Plugin } from '../../core/plugin.js';
import { createHeartbeat, minutesProblem, quietProblem } from './heartbeat.js';
import { heartbeatStore, migrations, type Beat } from './store.js';

export type HeartbeatsResponse = { beats: Beat[] };

export const heartbeat: Plugin = {
  name: 'heartbeat',
  store: heartbeatStore,
  migrations,
  setup({ store, paths, queue, config, logger, now }) {
    const hb = createHeartbeat({
      store,
      paths,
      queue,
      timezone: config.timezone,
      budgetTokens: intSetting(config.env, 'NANOCLAW_HEARTBEAT_BUDGET', 200_000),
      logger,
      now,
    });
    return {
      runTask: hb.runTask,
      checkSettings: (_group, changed) => {
        const problem =
          (changed.heartbeatMinutes !== undefined && minutesProblem(changed.heartbeatMinutes)) ||
          (changed.heartbeatQuiet !== undefined && quietProblem(changed.heartbeatQuiet));
        return problem ? `Invalid settings: sandbox.${problem}` : null;
      },
      api: (app) =>
        app.route(
          '/',
          new Hono()
            .get('/api/heartbeats', (c) =>
              c.json<HeartbeatsResponse>({ beats: store.heartbeats.recent(c.req.query('folder') ?? null) }),
            )
            .post('/api/heartbeats/:folder', (c) => {
              const group = store.groups.byFolder(c.req.param('folder'));
              if (!group)
                throw new ApiError(
                  'not_found',
                  `No registered chat has the folder "${c.req.param('folder').slice(0, 100)}".`,
                );
              hb.beat(group);
              return c.json({ queued: true }, 202);
            }),
        ),
      status: () => ({ heartbeats: hb.status() }),
      problems: hb.problems,
      start: hb.start,
      drain: hb.stop,
    };
  },
};
