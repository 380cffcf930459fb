import type { IntelConfig } from '../intel/config.ts';
import type { IsolationService } from '../respond/isolate/service.ts';
import type { HostGaps, Store } from '../store/types.ts';
import type { EventHub } from './events.ts';
import type { FailureLimiter } from './rate-limit.ts';
import type { AgentConfig } from './schemas.ts';

/** What the route handlers share: the store, the live hub and the server's settings. */
export interface ServerDeps {
  store: Store;
  hub: EventHub;
  gaps: HostGaps;
  agentConfig: AgentConfig;
  limiter: FailureLimiter;
  version: string;
  startedAt: number;
  /** The threat-intel state folder GET /overview reports the feeds of (undefined: the intel CLI's default; null: none). */
  intelStateDir: string | null | undefined;
  /** The `intel:` section whose feeds /intel/feeds lists and refreshes (null: none configured). */
  intelConfig: IntelConfig | null;
  /** How long POST /intel/feeds/refresh waits for the update before answering 503 (it goes on). */
  intelRefreshTimeoutMs: number;
  /** The responder: isolation requests, policy, expiry, the agents' firewall directives. */
  isolation: IsolationService;
}
