// Slack: a chat app (settings, setup, doctor and the channel in plugin.ts).
import type { Plugin } from '../../core/plugin.js';
import { slackPlugin } from './plugin.js';

export const slack: Plugin = { name: 'slack', channel: slackPlugin };
