// Claude login: an OAuth token with a refresh token (store/auth/claude.json) is refreshed on the host shortly
// before it expires. Without this plugin the gateway uses the credential from the environment as it is.
import type { Plugin } from '../../core/plugin.js';
import { createCredentialSource } from './credentials.js';

export const claudeLogin: Plugin = {
  name: 'claude-login',
  setup: ({ config, paths, logger }) => ({
    credential: createCredentialSource({ initial: config.credential, authDir: paths.auth, logger }).get,
  }),
};
