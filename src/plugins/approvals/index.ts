// "Ask me first": actions a chat's settings say to ask about wait for the owner's yes — in the main chat, by
// button, from the dashboard or the CLI. Host folders are staged so the owner approves the actual change set.
import path from 'node:path';
import { modeFor } from '../../core/ask.js';
import type { Plugin } from '../../core/plugin.js';
import { approvalsApi } from './api.js';
import { answerButtonPress, approvalAnswerStep } from './answer-step.js';
import {
  approvalCooldownMs,
  approvalTimeoutMs,
  createApprovals,
  parseButtonAction,
  type Approvals,
} from './approvals.js';
import { clearStaleStaging, createStagingSession, stagingLimits } from './staging.js';
import { approvalsStore, migrations } from './store.js';

declare module '../../core/host-types.js' {
  interface HostExtensions {
    /** "Ask me first": pending and past requests, and the owner's answers. */
    approvals: Approvals;
  }
}

export const approvals: Plugin = {
  name: 'approvals',
  store: approvalsStore,
  migrations,
  setup({ config, paths, store, logger, notifyOwner, conversation }) {
    const approvals = createApprovals({
      store,
      paths,
      logger,
      timeoutMs: approvalTimeoutMs(config.env),
      cooldownMs: approvalCooldownMs(config.env),
      // Where the owner is: a connected phone's main chat before the local one.
      postToMain: notifyOwner,
    });
    // A restart while a request waited means no; staged copies from before it were never approved.
    approvals.recover();
    clearStaleStaging(paths.data);
    return {
      approver: {
        check: approvals.check,
        forTool: approvals.forTool,
        runnerTool: approvals.forGateway.tool,
        noteOwnNetwork: approvals.noteOwnNetwork,
      },
      inbound: [approvalAnswerStep({ store, conversation, approvals })],
      onButton: async (press) =>
        parseButtonAction(press.action) ? answerButtonPress({ store, approvals }, press) : null,
      // mount_write = ask: the sandbox writes to a private staged copy; the owner approves the change set it made.
      sandbox: ({ id, group, current, hostMounts }) => {
        if (modeFor(current(), 'mount_write') !== 'ask') return;
        const staging = createStagingSession({
          mounts: hostMounts,
          stage: () => true,
          workDir: path.join(paths.data, 'staging', id),
          limits: stagingLimits(config.env),
          ask: (detail, what) => approvals.check(current(), { kind: 'mount_write', detail, what }),
          tellOwner: (text) => notifyOwner(`${group.name}: ${text}`),
        });
        // Changes never settled (the sandbox died mid-call) are dropped: only an approved set reaches the host.
        return { hostMounts: staging.mounts, writable: true, settle: staging.settle, end: staging.dispose };
      },
      api: (app) => app.route('/', approvalsApi(approvals)),
      expose: { approvals },
      drain: approvals.stop,
    };
  },
};
