// Claude login: an OAuth token with a refresh token (store/auth/claude.json) is refreshed on the host shortly
// before it expires, and a credential saved to .env while the host runs is used from the next model call. Without
// this plugin the gateway uses the credential from the environment as it was at start.
import type { Plugin } from '../../core/plugin.js';
import { createCredentialSource } from './credentials.js';

export const claudeLogin: Plugin = {
  name: 'claude-login',
  setup: ({ config, paths, logger }) => ({
    credential: createCredentialSource({
      initial: config.credential,
      home: { dir: config.home, env: config.env },
      authDir: paths.auth,
      logger,
    }).get,
  }),
};
