// Runs inside the sandbox, mounted alone at /app/plugins/browser.js: it may import only node built-ins (and types).
import fs from 'node:fs';

// Homes made before the browser existed have no Browser section in their CLAUDE.md.
export const systemPrompt = (): string | null =>
  fs.existsSync('/app/bin/agent-browser')
    ? 'A web browser is available: run `agent-browser` in Bash (open <url>, get text body, snapshot -i, screenshot; `agent-browser skills get core` for more), and send a screenshot with mcp__nanoclaw__send_message and `file` set to the path it printed.'
    : null;
