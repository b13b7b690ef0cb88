// Channel setup from the dashboard (token, link, QR), as `nanoclaw auth <name>` does it; with a running host a
// channel set up, linked, changed, re-checked or removed here is started again at once, and the answer is its live
// state.
import { Hono } from 'hono';
import type { ChannelPlugin, PluginEnv } from '../../core/channels/plugin.js';
import type { Level, SaveEnv } from '../../kit/channel-setup.js';
import type { ChannelState } from '../../core/types.js';
import { registerSecret } from '../../core/secrets.js';
import { qrSvg } from './qr-svg.js';
import { ApiError, objectBody } from '../../core/api/errors.js';

export interface ChannelsApiDeps {
  plugins: readonly ChannelPlugin[];
  env(): PluginEnv;
  saveEnv: SaveEnv;
  running(): string[];
  /** Stops the channel and starts it with the saved settings; answers its state then (null: no longer set up). */
  restart?(name: string): Promise<ChannelState | null>;
  /** The running channel's state now (null: not running). */
  state?(name: string): ChannelState | null;
}

/** How long a started channel has to log in or say why not before the answer says it is still connecting. */
const SETTLE_MS = 15_000;

/** What the page shows in a channel's result box, coloured by its level. */
export interface ChannelResult {
  level: Level;
  message: string;
  state?: ChannelState | null;
}

export interface LinkSession {
  /** connecting: linked, and the host is starting the channel with the new link. */
  state: 'starting' | 'waiting' | 'connecting' | 'linked' | 'failed';
  qr?: string;
  /** Bumped with each new QR code, so the page fetches it again. */
  qrVersion: number;
  pairingCode?: string;
  problem?: string;
  message?: string;
  level?: Level;
}

const RESTART =
  'Restart NanoClaw for it to take effect (stop it and run "nanoclaw start", or "systemctl --user restart nanoclaw").';

/** Settings that do not read (a malformed owner id) still count as set up: starting it then says what is wrong. */
export function isSetUp(plugin: ChannelPlugin, env: PluginEnv): boolean {
  try {
    return plugin.configured(env);
  } catch {
    return true;
  }
}

function pluginNamed(deps: ChannelsApiDeps, name: string): ChannelPlugin {
  const plugin = deps.plugins.find((p) => p.name === name && !p.builtIn);
  if (!plugin) throw new ApiError('not_found', `No channel named "${name.slice(0, 40)}".`);
  return plugin;
}

/** The channel's live state after starting it again, in words; without a host to restart it, how to. */
async function restarted(deps: ChannelsApiDeps, plugin: ChannelPlugin, before: string): Promise<ChannelResult> {
  if (!deps.restart) return { level: 'ok', message: `${before} ${RESTART}` };
  let state: ChannelState | null;
  try {
    state = await deps.restart(plugin.name);
  } catch (err) {
    return { level: 'fail', message: `${before} ${plugin.label} did not start: ${(err as Error).message}` };
  }
  if (!state) return { level: 'ok', message: `${before} ${plugin.label} is disconnected and no longer set up.` };
  state = await settled(deps, plugin.name, state);
  if (state.connected)
    return {
      level: 'ok',
      message: `${before} ${plugin.label} is connected${state.detail ? ` (${state.detail})` : ''}.`,
      state,
    };
  if (state.linking) return { level: 'warn', message: `${before} ${plugin.label} is waiting to be linked.`, state };
  if (!state.detail)
    return {
      level: 'info',
      message: `${before} ${plugin.label} is still connecting: the Channels page and "nanoclaw status" say when it is connected.`,
    };
  return { level: 'warn', message: `${before} ${plugin.label} is not connected: ${state.detail}`, state };
}

/**
 * Some channels (WhatsApp) are still logging in when connect() returns: waits, briefly, until it is connected,
 * waiting to be linked, or has said why not, so the answer is what the user will see.
 */
async function settled(deps: ChannelsApiDeps, name: string, state: ChannelState): Promise<ChannelState> {
  const until = Date.now() + SETTLE_MS;
  while (deps.state && !state.connected && !state.detail && !state.linking && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    state = deps.state(name) ?? state;
  }
  return state;
}

function view(s: LinkSession): Omit<LinkSession, 'qr'> & { qr: boolean } {
  const { qr, ...rest } = s;
  return { ...rest, qr: !!qr };
}

export function channelsApi(deps: ChannelsApiDeps): Hono {
  const app = new Hono();
  const links = new Map<string, LinkSession>();
  // One restart of a channel at a time: a second waits for the first rather than racing it for the same account.
  const busy = new Map<string, Promise<unknown>>();
  const queued = <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const next = (busy.get(name) ?? Promise.resolve()).then(run, run);
    busy.set(
      name,
      next.catch(() => {}),
    );
    return next;
  };

  app.post('/api/channels/:name/token', async (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    if (!plugin.tokenForm)
      throw new ApiError('invalid', `${plugin.label} is not set up with a token: run "nanoclaw auth ${plugin.name}".`);
    const body = await objectBody(c, 'Expected { "values": { "<setting>": "<value>" } }.');
    const given = (body.values ?? {}) as Record<string, unknown>;
    const values: Record<string, string> = {};
    for (const f of plugin.tokenForm.fields) {
      const v = given[f.key];
      if (typeof v !== 'string' || !v.trim()) throw new ApiError('invalid', `${f.label} is missing.`);
      values[f.key] = v.trim();
      // Hidden before the check: a refusal may quote it back.
      if (f.secret) registerSecret(f.key, values[f.key]);
    }
    let message: string;
    try {
      message = await plugin.tokenForm.save(values, { ...deps.env(), saveEnv: deps.saveEnv });
    } catch (err) {
      throw new ApiError('invalid', (err as Error).message);
    }
    return c.json(await queued(plugin.name, () => restarted(deps, plugin, message)));
  });

  // Connects it again now with the saved settings: the answer is what it says then.
  app.post('/api/channels/:name/check', async (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    if (!isSetUp(plugin, deps.env()))
      throw new ApiError('invalid', `${plugin.label} is not set up: set it up on its card first.`);
    const problems = (plugin.doctor?.(deps.env()) ?? []).filter((r) => r.level === 'fail').map((r) => r.detail);
    const result = await queued(plugin.name, () => restarted(deps, plugin, problems.join('. ')));
    return c.json({ ...result, message: result.message.trim() });
  });

  // Its settings leave .env and it disconnects; a linked device (WhatsApp) is unlinked on the phone instead.
  app.delete('/api/channels/:name', async (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    if (!plugin.tokenForm)
      throw new ApiError(
        'invalid',
        `${plugin.label} is linked, not set with a token: unlink it in the app on your phone.`,
      );
    const file = deps.saveEnv(Object.fromEntries(plugin.tokenForm.fields.map((f) => [f.key, null])));
    return c.json(
      await queued(plugin.name, () => restarted(deps, plugin, `${plugin.label}'s settings are removed from ${file}.`)),
    );
  });

  app.post('/api/channels/:name/link', async (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    if (!plugin.link)
      throw new ApiError('invalid', `${plugin.label} is not linked by QR code: see its setup on the Channels page.`);
    if (deps.running().includes(plugin.name))
      throw new ApiError(
        'conflict',
        `${plugin.label} is already set up and running; its state is on the Channels page.`,
      );
    const current = links.get(plugin.name);
    if (current && ['starting', 'waiting', 'connecting'].includes(current.state))
      return c.json({ link: view(current) }, 202);
    const body = await objectBody(c, 'Expected {} or { "phone": "<number with country code>" }.');
    const phone = typeof body.phone === 'string' && body.phone.trim() ? body.phone.trim() : undefined;
    if (phone && !/^\+?[\d\s()-]{6,20}$/.test(phone))
      throw new ApiError('invalid', 'Give the phone number with its country code, e.g. +44 7700 900123.');
    const session: LinkSession = { state: 'starting', qrVersion: 0 };
    const ended = { qr: undefined, pairingCode: undefined };
    links.set(plugin.name, session);
    plugin
      .link(deps.env(), {
        phone,
        onLinking: (l) => {
          session.state = 'waiting';
          if (l.qr && l.qr !== session.qr) session.qrVersion++;
          session.qr = l.qr;
          session.pairingCode = l.pairingCode;
        },
        onProblem: (problem) => (session.problem = problem),
      })
      .then(
        async () => {
          const linked = `${plugin.label} is linked.`;
          if (deps.restart)
            Object.assign(session, { state: 'connecting', ...ended, message: `${linked} Connecting it…` });
          // Started with the new link at once, as Re-check does: the owner sees it connected, or why not.
          const result = await queued(plugin.name, () => restarted(deps, plugin, linked));
          Object.assign(session, { state: 'linked', ...ended, message: result.message, level: result.level });
        },
        (err: Error) => Object.assign(session, { state: 'failed', ...ended, problem: err.message }),
      )
      .catch((err: Error) =>
        Object.assign(session, {
          state: 'failed',
          problem: `${plugin.label} is linked, but starting it failed: ${err.message}. Press Re-check on its card to try again.`,
        }),
      );
    return c.json({ link: view(session) }, 202);
  });

  app.get('/api/channels/:name/link', (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    const session = links.get(plugin.name);
    if (!session) throw new ApiError('not_found', `No link for ${plugin.label} has been started here.`);
    return c.json({ link: view(session) });
  });

  app.get('/api/channels/:name/link/qr.svg', (c) => {
    const plugin = pluginNamed(deps, c.req.param('name'));
    const qr = links.get(plugin.name)?.qr;
    if (!qr) throw new ApiError('not_found', `${plugin.label} is not waiting for a QR scan.`);
    return c.body(qrSvg(qr), 200, {
      'content-type': 'image/svg+xml',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
  });

  return app;
}
