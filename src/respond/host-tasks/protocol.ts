import { z } from 'zod';

/**
 * What the server and an agent say to each other about work on the agent's
 * host (issue 17): collecting evidence and eradicating a miner. The server
 * hands queued tasks out with each heartbeat answer; the agent runs them one
 * at a time, uploads each piece of evidence (`POST
 * /hosts/{id}/tasks/{task}/evidence`, the raw bytes) and reports the end
 * (`POST /hosts/{id}/tasks/{task}/result`). Shared by the server's schemas
 * and the agent, so the two cannot drift.
 */

/** A process to act on, named so that a reused pid is never mistaken for it. */
export const ProcessTargetSchema = z.strictObject({
  pid: z.number().int().min(1).max(4_194_304).optional(),
  /** ISO-8601 start time as findings carry it (`process.start`); a pid whose process started otherwise is left alone. */
  start: z.string().max(40).optional(),
  /** The executable path as findings carry it. */
  executable: z.string().min(1).max(4096).optional(),
  /** SHA-256 of the executable: any process running a file with this hash is the target too. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type ProcessTarget = z.infer<typeof ProcessTargetSchema>;

/** A persistence entry a finding named: a file, and the line in it (1-based) as it was read. */
export const PersistenceEntrySchema = z.strictObject({
  file: z.string().min(1).max(4096),
  line: z.number().int().min(1).max(1_000_000).optional(),
  content: z.string().max(4000).optional(),
});
export type PersistenceEntry = z.infer<typeof PersistenceEntrySchema>;

export const COLLECT_ITEMS = ['process', 'executable', 'memory', 'persistence', 'config'] as const;
export const DEFAULT_MEMORY_MAX_BYTES = 256 * 1024 * 1024;

export const CollectParamsSchema = z.strictObject({
  targets: z.array(ProcessTargetSchema).max(16),
  persistence: z.array(PersistenceEntrySchema).max(100).default([]),
  include: z
    .array(z.enum(COLLECT_ITEMS))
    .max(COLLECT_ITEMS.length)
    .default([...COLLECT_ITEMS]),
  /** Memory of all targets together is cut at this many bytes (the map says where it was cut). */
  memory_max_bytes: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 ** 3)
    .default(DEFAULT_MEMORY_MAX_BYTES),
});
export type CollectParams = z.infer<typeof CollectParamsSchema>;

export const ERADICATE_STEPS = ['suspend', 'kill', 'quarantine', 'remove_persistence'] as const;
export type EradicateStep = (typeof ERADICATE_STEPS)[number];

export const EradicateParamsSchema = z.strictObject({
  targets: z.array(ProcessTargetSchema).max(16),
  persistence: z.array(PersistenceEntrySchema).max(100).default([]),
  steps: z.array(z.enum(ERADICATE_STEPS)).min(1).max(ERADICATE_STEPS.length),
  /** The server's: how long it watches the host after a verified eradication (the agent ignores it). */
  watch_s: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional(),
});
export type EradicateParams = z.infer<typeof EradicateParamsSchema>;

export const TaskDirectiveSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.string().min(1).max(64), kind: z.literal('collect'), params: CollectParamsSchema }),
  z.object({ id: z.string().min(1).max(64), kind: z.literal('eradicate'), params: EradicateParamsSchema }),
]);
export type TaskDirective = z.infer<typeof TaskDirectiveSchema>;

/** One step of a task as the agent did it: `verified` only when it read back that the step held. */
export const StepResultSchema = z.strictObject({
  step: z.string().min(1).max(64),
  target: z.string().max(4200).optional(),
  ok: z.boolean(),
  verified: z.boolean(),
  detail: z.string().max(4000).optional(),
  /** Where a quarantined binary or a backed-up persistence file went, and its hash (restorable). */
  saved_to: z.string().max(4200).optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type StepResult = z.infer<typeof StepResultSchema>;

export const TaskResultSchema = z.strictObject({
  ok: z.boolean().describe('Every step succeeded and was verified'),
  steps: z.array(StepResultSchema).max(500),
  /** Evidence ids the server gave the uploads of this task. */
  evidence: z.array(z.string().max(64)).max(500).default([]),
  error: z.string().max(4000).optional(),
});
export type TaskResult = z.infer<typeof TaskResultSchema>;

export const EVIDENCE_UPLOAD_KINDS = [
  'memory',
  'memory-map',
  'executable',
  'process',
  'persistence',
  'config',
] as const;

/** The query of an evidence upload (the body is the raw bytes). */
export const EvidenceUploadQuerySchema = z.strictObject({
  kind: z.enum(EVIDENCE_UPLOAD_KINDS),
  name: z.string().min(1).max(1000),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  collected_at: z.string().max(40),
  pid: z.coerce.number().int().min(1).max(4_194_304).optional(),
});
export type EvidenceUploadQuery = z.infer<typeof EvidenceUploadQuerySchema>;
