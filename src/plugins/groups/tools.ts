// The host side of the group tools: registering and unregistering is a 'groups' action the owner may be asked about.
import { registerGroup, type RegistrationDeps, type Result } from '../../core/groups/registration.js';
import { ok, oneLine, refuse } from '../../core/tools/answer.js';
import { tool, type HostTool } from '../../core/tools/registry.js';
import * as defs from './definitions.js';
import { unregisterGroup } from './unregister.js';

const answer = <T>(res: Result<T>, said: (value: T) => string) => (res.ok ? ok(said(res.value)) : refuse(res.error));
const groupsAction = (detail: string, what: string) => ({ kind: 'groups' as const, detail, what });

export function createGroupTools(deps: RegistrationDeps): HostTool[] {
  const { store } = deps;
  return [
    tool(defs.listGroups, () => {
      const groups = store.groups.list();
      const known = store.messages.chats().filter((c) => !groups.some((g) => g.jid === c.jid));
      const trigger = (g: (typeof groups)[number]) => (g.requiresTrigger ? g.trigger : 'none');
      return ok(
        [
          'Registered:',
          ...groups.map(
            (g) => `- ${g.name} (jid ${g.jid}, folder ${g.folder}, trigger ${trigger(g)}${g.isMain ? ', main' : ''})`,
          ),
          'Seen but not registered:',
          ...(known.length ? known.map((c) => `- ${c.name ?? '(no name)'} (jid ${c.jid}, ${c.channel})`) : ['- none']),
        ]
          .map(oneLine)
          .join('\n'),
      );
    }),
    tool(
      defs.registerGroup,
      (_, { requires_trigger, ...a }) =>
        answer(
          registerGroup(deps, { ...a, requiresTrigger: requires_trigger }),
          (g) =>
            `Registered ${g.name} (${g.jid}) in folder ${g.folder}; trigger ${g.requiresTrigger ? g.trigger : 'none (answers everything)'}.`,
        ),
      {
        approval: (_, a) =>
          groupsAction(`register_group jid=${a.jid} name=${a.name} folder=${a.folder}`, `register the chat ${a.jid}`),
      },
    ),
    tool(
      defs.unregisterGroup,
      (_, { jid }) =>
        answer(unregisterGroup(store, jid), (g) => `Unregistered ${g.name}; its folder groups/${g.folder} is kept.`),
      { approval: (_, a) => groupsAction(`unregister_group jid=${a.jid}`, `unregister the chat ${a.jid}`) },
    ),
  ];
}
