import { z } from 'zod';

/**
 * What the server and an agent say to each other about isolating the
 * agent's host on its own firewall (backend `agent-nftables`): the server
 * hands a directive with each heartbeat answer, the agent applies it with
 * the nftables backend and reports back (`POST /hosts/{id}/isolation/report`).
 * Shared by the server's schemas and the agent, so the two cannot drift.
 */
export const IsolationDirectiveSchema = z.object({
  id: z.string().min(1).max(128).describe('The isolation this is about'),
  action: z.enum(['isolate', 'release']).describe('isolate: have the table in place; release: have it gone'),
  allow: z
    .array(z.string().min(1).max(64))
    .max(100)
    .describe(
      "Addresses or prefixes still reachable: the deminer server's (the agent adds the address it reaches the server at)",
    ),
  dns: z
    .array(z.string().min(1).max(64))
    .max(20)
    .optional()
    .describe("DNS servers still reachable (default: the host's own resolvers)"),
  expires_at: z.string().optional().describe('When the server releases it unless renewed'),
});
export type IsolationDirective = z.infer<typeof IsolationDirectiveSchema>;

const exchangeSchema = z.object({
  step: z.record(z.string(), z.unknown()),
  at: z.string().max(40),
  ms: z.number(),
  answer: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(4000).optional(),
});

export const IsolationReportSchema = z.strictObject({
  isolation_id: z.string().min(1).max(128),
  action: z.enum(['isolate', 'release']),
  ok: z.boolean().describe('The table was read back in place (isolate) or gone (release)'),
  outcome: z.enum(['isolated', 'already_isolated', 'released', 'nothing_to_release', 'failed']),
  attempts: z.number().int().min(0).max(100),
  verification: z.record(z.string(), z.unknown()).optional(),
  error: z.strictObject({ code: z.string().min(1).max(100), message: z.string().max(2000) }).optional(),
  exchanges: z.array(exchangeSchema).max(50).optional(),
  timings: z.record(z.string(), z.number()).optional(),
  /** Why the agent acted: a heartbeat directive, or its own state after a restart. */
  trigger: z.enum(['directive', 'restart', 'check']).optional(),
});
export type IsolationReport = z.infer<typeof IsolationReportSchema>;

/** The directive of a heartbeat answer, when it has one that holds (an older server sends none). */
export function parseDirective(value: unknown): IsolationDirective | undefined {
  const r = IsolationDirectiveSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
