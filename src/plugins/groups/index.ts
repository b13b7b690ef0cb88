// Which chats the assistant answers in: the local API's /api/groups (the CLI's and the dashboard's) and the main
// chat's register_group, unregister_group and list_groups. Registering itself, with its checks, is the core's.
import type { Plugin } from '../../core/plugin.js';
import { groupsApi } from './api.js';
import { createGroupTools } from './tools.js';

declare module '../../core/types.js' {
  interface ApprovalKinds {
    groups: true;
  }
}

export const groups: Plugin = {
  name: 'groups',
  approvalKinds: { groups: { mode: 'allow', words: 'change which chats the assistant answers in' } },
  setup({ store, paths, config, checkSettings }) {
    const deps = { store, paths, assistantName: config.assistantName };
    return {
      tools: createGroupTools(deps),
      api: (app) => app.route('/', groupsApi({ ...deps, checkSettings })),
    };
  },
};
