// What plugins add to a sandbox when it starts (the browser, staged host folders).
import type { Mount, RegisteredGroup, SandboxRuntime } from '../types.js';

/** What a sandbox gets from a plugin when it starts. */
export interface SandboxParts {
  mounts?: Mount[];
  env?: Record<string, string>;
  /** Replaces the group's host-folder mounts when mount_write is ask (staged copies); otherwise they are read-only. */
  hostMounts?: Mount[];
  /** After each tool call and at turn end: what to tell the agent, if anything. */
  settle?(): Promise<string | null>;
  /** The sandbox is gone. */
  end?(): void;
}

export interface SandboxStart {
  id: string;
  group: RegisteredGroup;
  /** The group as stored now (settings may change while its sandbox lives). */
  current(): RegisteredGroup;
  runtime: SandboxRuntime;
  /** The group's host folders as the mount allowlist allows them; a replacement is used only when mount_write is ask. */
  hostMounts: Mount[];
}
