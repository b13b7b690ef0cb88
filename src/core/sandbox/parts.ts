// What plugins add to a sandbox when it starts (the browser, staged host folders).
import type { Mount, RegisteredGroup, SandboxRuntime } from '../types.js';

/** What a sandbox gets from a plugin when it starts. */
export interface SandboxParts {
  mounts?: Mount[];
  env?: Record<string, string>;
  /** The chat's host folders from here on (the mounts plugin lists them; approvals stage them). */
  hostMounts?: Mount[];
  /** They may be mounted as given; otherwise every one is read-only. */
  writable?: boolean;
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
  /** The chat's host folders as the plugins before this one left them. */
  hostMounts: Mount[];
}
