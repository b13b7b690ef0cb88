// Where one answer is needed the first plugin that gives one decides; else all run in list order (stop in reverse).
import type { Hono } from 'hono';
import type { SettingsCheck } from './groups/registration.js';
import type { Approver } from './ask.js';
import type { Credential } from './config/config.js';
import type { Pace } from './delivery/delivery.js';
import type { RunAgent } from './conversation/turn.js';
import type { PluginParts } from './plugin.js';
import type { ButtonAnswer, ButtonPress, Message, RegisteredGroup } from './types.js';

export function combine(parts: readonly PluginParts[]) {
  const all = <K extends keyof PluginParts>(k: K) => parts.flatMap((p) => (p[k] ? [p[k]!] : []));
  const first = async <T>(asks: (() => T | null | Promise<T | null>)[]): Promise<T | null> => {
    for (const ask of asks) {
      const said = await ask();
      if (said) return said;
    }
    return null;
  };
  return {
    all,
    // Looked up at each call.
    approver: (fallback: Approver) =>
      new Proxy(fallback, { get: (base, k: keyof Approver) => (all('approver')[0] ?? base)[k] }),
    pace: ((...a) => all('pace')[0]?.(...a)) as Pace,
    releaseSpace: () => all('releaseSpace').some((release) => release()),
    onGiveUp: (jid: string, told: string) => all('onGiveUp').forEach((f) => f(jid, told)),
    status: () => Object.assign({}, ...all('status').map((s) => s())),
    problems: () => all('problems').flatMap((p) => p()),
    /** Your own messages always call the assistant; others' when every plugin that has a say agrees. */
    canTrigger: (g: RegisteredGroup, m: Message) => m.fromMe || all('canTrigger').every((may) => may(g, m)),
    refuseRun: (g: RegisteredGroup) => all('refuseRun').reduce<string | null>((why, f) => why ?? f(g), null),
    afterRun: (g: RegisteredGroup) => all('afterRun').forEach((f) => f(g)),
    keepIdle: (g: RegisteredGroup) => all('keepIdle').some((keep) => keep(g)),
    runTask: async (id: string, run: RunAgent) => {
      for (const f of all('runTask')) if ((await f(id, run)) !== false) return;
    },
    credential: (fallback: Credential | null) => all('credential')[0] ?? (async () => fallback),
    onButton: async (press: ButtonPress): Promise<ButtonAnswer> =>
      (await first(all('onButton').map((f) => () => f(press)))) ?? { notice: 'This button no longer does anything.' },
    checkSettings: ((group, changed) =>
      first(all('checkSettings').map((f) => () => f(group, changed)))) as SettingsCheck,
    arrive: (route: (m: Message) => void) =>
      all('receive').reduceRight<(m: Message) => void>((next, wrap) => (m) => wrap(m, next), route),
    api: (app: Hono) => all('api').forEach((add) => add(app)),
    start: () => all('start').forEach((start) => start()),
    drain: async () => {
      for (const drain of all('drain').reverse()) await drain();
    },
    stop: async () => {
      for (const stop of all('stop').reverse()) await stop();
    },
  };
}
