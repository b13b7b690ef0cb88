// GET /api/usage?days=30 → { byDay: [{ day }], byGroup: [{ groupFolder }], byTask: [{ taskId, groupFolder }],
// byModel: [{ model }] },
// each row with inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens and costUsd (an estimate, see
// pricing.ts); days in the user's time zone.
import { Hono } from 'hono';
import type { Store } from '../../core/store/index.js';
import { rollUp } from './pricing.js';
import type { UsageTotals } from './store.js';

export type UsageRow = UsageTotals & { costUsd: number };
/** GET /api/usage?days=30: days in the user's time zone; costUsd is an estimate. */
export interface UsageResponse {
  byDay: (UsageRow & { day: string })[];
  byGroup: (UsageRow & { groupFolder: string })[];
  byTask: (UsageRow & { taskId: string; groupFolder: string })[];
  /** The model the upstream said answered; "unknown" where it did not say. */
  byModel: (UsageRow & { model: string })[];
}

export interface UsageApiDeps {
  store: Pick<Store, 'usage'>;
  timezone: string;
  now?: () => number;
}

/** The local day (YYYY-MM-DD) of a UTC hour bucket such as "2025-01-06T23". */
function localDay(hour: string, timezone: string): string {
  const d = new Date(`${hour}:30:00Z`);
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d);
}

export function usageApi(deps: UsageApiDeps): Hono {
  const { usage } = deps.store;
  return new Hono().get('/api/usage', (c) => {
    const days = Math.min(Math.max(Math.floor(Number(c.req.query('days') ?? 30)) || 30, 1), 3660);
    const since = new Date((deps.now ?? Date.now)() - days * 86_400_000).toISOString();
    const byDay = rollUp(
      usage.byHourAndModel(since),
      (r) => localDay(r.hour, deps.timezone),
      (r) => ({ day: localDay(r.hour, deps.timezone) }),
    ).sort((a, b) => a.day.localeCompare(b.day));
    const byGroup = rollUp(
      usage.byGroupAndModel(since),
      (r) => r.groupFolder,
      (r) => ({ groupFolder: r.groupFolder }),
    ).sort((a, b) => b.costUsd - a.costUsd);
    const byTask = rollUp(
      usage.byTaskAndModel(since),
      (r) => r.taskId,
      (r) => ({ taskId: r.taskId, groupFolder: r.groupFolder }),
    ).sort((a, b) => b.costUsd - a.costUsd);
    const modelOf = (r: { model: string | null }) => r.model ?? 'unknown';
    const byModel = rollUp(usage.byGroupAndModel(since), modelOf, (r) => ({ model: modelOf(r) })).sort(
      (a, b) => b.costUsd - a.costUsd,
    );
    return c.json<UsageResponse>({ byDay, byGroup, byTask, byModel });
  });
}
