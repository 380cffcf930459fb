import { z } from 'zod';
import { FindingSchema } from '../core/finding.ts';
import { SEVERITIES } from '../core/severity.ts';
import { TaskDirectiveSchema } from '../respond/host-tasks/protocol.ts';
import { IsolationDirectiveSchema } from '../respond/isolate/agent-protocol.ts';
import { AGENT_CONFIG_LIMITS } from '../store/settings.ts';
import { ROLES } from '../store/types.ts';

/**
 * The request and response shapes of the HTTP API, as zod schemas: the
 * routes validate with them and the OpenAPI document is generated from
 * them, so the two cannot drift apart. Objects are closed (`strictObject`):
 * a misspelt field is an error that names it, never silently dropped.
 */

/** Findings and metrics per request. */
export const MAX_BATCH = 1000;
/** Rows per page of any list. */
export const MAX_PAGE = 500;
/** How far in the future a timestamp may lie (clock skew between agent and server). */
export const MAX_FUTURE_MS = 5 * 60_000;
export const MAX_ENROLMENT_S = 30 * 86_400;

const FINGERPRINT = /^[0-9a-f]{16,64}$/;
const shortText = (max = 200) => z.string().min(1).max(max);
const isoTime = () => z.iso.datetime({ offset: true });
const limit = (max = MAX_PAGE) => z.coerce.number().int().min(1).max(max).optional();
const cursor = () => z.string().min(1).max(1000).optional();

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable code, e.g. DEMINER_UNAUTHORIZED'),
    message: z.string(),
    field: z.string().optional().describe('The input at fault, e.g. items[3].@timestamp'),
  }),
});

export const HealthSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  store: z.enum(['sqlite', 'postgres']),
  uptime_ms: z.number().int(),
  data_bytes: z.number().int(),
});

// ---- enrolment -----------------------------------------------------------

export const EnrolmentCreateBody = z.strictObject({
  expires_in_s: z.number().int().min(60).max(MAX_ENROLMENT_S).optional().describe('Default: one day'),
  uses: z.number().int().min(1).max(10_000).optional().describe('Default: 1'),
});
export const EnrolmentCreated = z.object({
  id: z.string(),
  secret: z.string(),
  expires_at: z.string(),
  uses_left: z.number().int(),
  install_command: z
    .string()
    .describe(
      'The one line to paste on a Linux host: installs and starts the agent (systemd), enrolled with this secret, reporting to this server as the request reached it',
    ),
});
export const EnrolmentSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  uses_left: z.number().int(),
  created_by: z.string().describe('Token id of the admin who created it (or "deminer up")'),
  expired: z.boolean().describe('expires_at has passed: the secret no longer enrols'),
});
export const EnrolmentsList = z.object({ items: z.array(EnrolmentSchema), next: z.null() });

const hostFacts = {
  os: shortText().optional(),
  kernel: shortText().optional(),
  addresses: z.array(z.string().min(1).max(64)).max(64).optional(),
  agent_version: shortText(64).optional(),
  cpus: z
    .number()
    .int()
    .min(1)
    .max(65_536)
    .optional()
    .describe('CPUs the host has (the share of it a miner takes)'),
  watts_per_core: z
    .number()
    .min(0.1)
    .max(1000)
    .optional()
    .describe("Marginal watts of one busy core, from the host's RAPL counters"),
};
export const EnrolBody = z.strictObject({
  secret: z.string().min(1).max(512),
  host: z.strictObject({ name: shortText(253), ...hostFacts }),
});
export const EnrolResponse = z.object({
  token: z.string(),
  host: z.object({ id: z.string(), name: z.string() }),
});

// ---- agents ----------------------------------------------------------------

export const HeartbeatBody = z.strictObject({ host: z.strictObject(hostFacts).optional() });
export const AgentConfigSchema = z.object({
  interval_s: z.number().int().positive().describe('Seconds between scans'),
  allowlist: z.string().optional().describe('Application allow-list as XML text'),
  never_alert: z
    .array(z.string())
    .optional()
    .describe('Rule ids (or fingerprints, executables) never reported'),
});
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export const HeartbeatResponse = z.object({
  config: AgentConfigSchema,
  isolation: IsolationDirectiveSchema.optional().describe(
    'Only while this host is isolated on its own firewall (backend agent-nftables): have the table in place, or have it gone; absent: no isolation holds',
  ),
  tasks: z
    .array(TaskDirectiveSchema)
    .optional()
    .describe('Evidence collection and eradication for the agent to run, one after the other (absent: none)'),
});

const L = AGENT_CONFIG_LIMITS;
/** PUT /agent-config: the whole configuration (what is left out is unset). The allow-list is parsed too (routes/config.ts). */
export const AgentConfigBody = z.strictObject({
  interval_s: z.number().int().min(L.minIntervalS).max(L.maxIntervalS).describe('Seconds between scans'),
  allowlist: z
    .string()
    .min(1)
    .max(L.maxAllowlistBytes)
    .refine(
      (s) => Buffer.byteLength(s, 'utf8') <= L.maxAllowlistBytes,
      `at most ${L.maxAllowlistBytes} bytes`,
    )
    .optional()
    .describe('Application allow-list as XML text (<ApplicationControl>), at most 1 MiB'),
  never_alert: z
    .array(z.string().min(1).max(L.maxNeverAlertLength))
    .max(L.maxNeverAlert)
    .optional()
    .describe('Rule ids (or fingerprints, executables) agents never report'),
});
export const AgentConfigResponse = z.object({
  config: AgentConfigSchema,
  updated_at: z.string().nullable().describe('null: never set, the server default applies'),
  updated_by: z.string().nullable().describe('Token id of whoever set it'),
});

export const MetricsBody = z.strictObject({
  items: z
    .array(
      z.strictObject({
        subject: shortText(500).describe("'host' or a process key (pid:start or executable path)"),
        at: isoTime(),
        cpu: z.number().min(0).optional(),
        memory_bytes: z.number().int().min(0).optional(),
        connections_per_minute: z.number().min(0).optional(),
      }),
    )
    .max(MAX_BATCH),
});
export const MetricsAccepted = z.object({ stored: z.number().int() });
export const MetricSampleSchema = z.object({
  subject: z.string(),
  at: z.string().describe('The sample time, or the start of a bucket'),
  resolution_s: z
    .number()
    .int()
    .describe('0: a sample as sent; 300 or 3600: a bucket of that many seconds (values are averages)'),
  cpu: z.number().optional(),
  memory_bytes: z.number().optional(),
  connections_per_minute: z.number().optional(),
  samples: z.number().int().optional().describe('Buckets: how many samples it holds'),
  cpu_max: z.number().optional().describe('Buckets: the largest value'),
  memory_bytes_max: z.number().optional().describe('Buckets: the largest value'),
  connections_per_minute_max: z.number().optional().describe('Buckets: the largest value'),
});
export const MetricsQuery = z.strictObject({
  subject: shortText(500).optional(),
  from: isoTime().optional(),
  to: isoTime().optional(),
  // A chart's series, not a page: as many points as the store gives at once (docs/api.md).
  limit: limit(10_000),
});
export const MetricsList = z.object({ items: z.array(MetricSampleSchema), next: z.null() });

// ---- findings ----------------------------------------------------------------

export const FindingsBody = z.strictObject({ items: z.array(FindingSchema).max(MAX_BATCH) });
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x20-\x7e]+$/, 'printable ASCII only');
export const IngestResponse = z.object({
  stored: z.number().int().describe('Fingerprints seen for the first time'),
  duplicates: z.number().int().describe('Known fingerprints: count and last_seen raised'),
  replayed: z.boolean().describe('The Idempotency-Key was seen before: nothing was written'),
  queued: z
    .boolean()
    .optional()
    .describe('With --nats: the batch is queued durably and stored shortly (the counts are 0 then)'),
});

export const StoredFindingSchema = z.lazy(() =>
  FindingSchema.unwrap().extend({
    first_seen: z.string(),
    last_seen: z.string(),
    count: z.number().int(),
    acknowledged: z.boolean(),
    acknowledged_by: z.string().optional(),
    acknowledged_at: z.string().optional(),
  }),
);
export const FindingsPage = z.object({ items: z.array(StoredFindingSchema), next: z.string().nullable() });

const severityList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(z.enum(SEVERITIES)).min(1));
export const FindingsQuery = z.strictObject({
  severity: severityList.optional().describe('Comma-separated: low,medium,high,critical'),
  rule: shortText().optional(),
  host: shortText(253).optional(),
  technique: shortText(32).optional(),
  text: shortText().optional(),
  from: isoTime().optional(),
  to: isoTime().optional(),
  acknowledged: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  sort: z.enum(['last_seen', 'first_seen', 'severity', 'count']).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  limit: limit(),
  cursor: cursor(),
});
export const FingerprintParams = z.strictObject({ fingerprint: z.string().regex(FINGERPRINT) });
export const AckBody = z.strictObject({
  fingerprints: z.array(z.string().regex(FINGERPRINT)).min(1).max(MAX_BATCH),
});
export const AckResponse = z.object({ acknowledged: z.number().int() });

// ---- hosts --------------------------------------------------------------------

export const HostSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['reporting', 'stale', 'offline']),
  first_seen: z.string(),
  last_seen: z.string(),
  os: z.string().nullable(),
  kernel: z.string().nullable(),
  addresses: z.array(z.string()),
  agent_version: z.string().nullable(),
  cpus: z.number().int().nullable().describe('CPUs the host has, as its agent reports them'),
  watts_per_core: z
    .number()
    .nullable()
    .describe(
      'Marginal watts of one busy core, measured by its agent with the RAPL counters (null: not measured)',
    ),
  agent: z.boolean(),
});
export const SeverityCountsSchema = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
  info: z.number().int().describe('Always 0 today: informational Sigma rules report as low'),
});
export const HostListItemSchema = HostSchema.extend({
  open_findings: SeverityCountsSchema.describe('Unacknowledged findings of this host by severity'),
  cpu_recent: z
    .array(z.number())
    .describe(
      'Up to the 30 newest host-level CPU samples as sent (within the raw-metrics retention), oldest first',
    ),
});
export const HostsQuery = z.strictObject({
  status: z.enum(['reporting', 'stale', 'offline']).optional(),
  text: shortText().optional(),
  sort: z
    .enum(['name', 'last_seen', 'status', 'open'])
    .optional()
    .describe(
      'Default name. status: reporting, stale, offline; open: by unacknowledged critical, then high, medium, low findings. Ties in name order',
    ),
  order: z.enum(['asc', 'desc']).optional().describe('Default asc'),
  limit: limit(),
  cursor: cursor(),
});
export const HostsPage = z.object({ items: z.array(HostListItemSchema), next: z.string().nullable() });
export const IdParams = z.strictObject({ id: shortText() });

// ---- tokens and audit ---------------------------------------------------------

export const TokenCreateBody = z.strictObject({
  role: z.enum(ROLES),
  name: shortText(),
  host_id: shortText().optional().describe('Required for role agent: the host it writes for'),
});
export const TokenCreated = z.object({
  id: z.string(),
  token: z.string(),
  role: z.enum(ROLES),
  name: z.string(),
});
export const TokenSchema = z.object({
  id: z.string(),
  role: z.enum(ROLES),
  name: z.string(),
  host_id: z.string().optional(),
  created_at: z.string(),
  last_used_at: z.string().optional(),
  revoked_at: z.string().optional(),
});
export const TokensList = z.object({ items: z.array(TokenSchema), next: z.null() });

export const AuditQuery = z.strictObject({ limit: limit(), cursor: cursor() });
export const AuditEntrySchema = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().optional(),
  outcome: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export const AuditPage = z.object({ items: z.array(AuditEntrySchema), next: z.string().nullable() });

export const WhoamiSchema = z.object({
  id: z.string().describe('The token id'),
  role: z.enum(ROLES),
  name: z.string(),
});

// ---- console ------------------------------------------------------------------

export const OVERVIEW_RANGES = ['24h', '7d', '30d'] as const;
export const OverviewQuery = z.strictObject({
  range: z.enum(OVERVIEW_RANGES).optional().describe('Default 7d'),
});
const isoOut = () => z.string().describe('ISO-8601 UTC');
export const OverviewSchema = z.object({
  generated_at: isoOut(),
  hosts: z.object({
    reporting: z.number().int(),
    stale: z.number().int(),
    offline: z.number().int(),
    total: z.number().int(),
  }),
  open_by_severity: SeverityCountsSchema.describe('Unacknowledged findings by severity'),
  active_miners: z
    .array(
      z.object({
        host: z.string(),
        host_id: z.string().nullable(),
        fingerprint: z.string(),
        rule: z.object({ id: z.string(), name: z.string() }),
        severity: z.enum(SEVERITIES),
        last_seen: isoOut(),
      }),
    )
    .describe(
      'Unacknowledged high and critical findings last seen within the last 15 minutes, newest first, at most 50',
    ),
  findings_over_time: z.object({
    bucket_s: z.number().int().describe('3600 (24h), 21600 (7d) or 86400 (30d)'),
    series: z
      .array(
        z.object({
          t: isoOut().describe("The bucket's start"),
          critical: z.number().int(),
          high: z.number().int(),
          medium: z.number().int(),
          low: z.number().int(),
          info: z.number().int(),
        }),
      )
      .describe(
        'Findings ingested per bucket by severity (each sighting at its event time), every bucket of the range, oldest first',
      ),
  }),
  top_rules: z
    .array(z.object({ id: z.string(), name: z.string(), count: z.number().int() }))
    .describe('At most 10 rules by findings last seen in the range'),
  top_techniques: z
    .array(z.object({ id: z.string(), count: z.number().int() }))
    .describe(
      "At most 10 ATT&CK techniques by findings last seen in the range (each rule's findings count for the techniques of its newest finding)",
    ),
  intel: z
    .object({
      feeds: z.array(
        z.object({
          name: z.string(),
          ok: z.boolean(),
          last_success: z.string().nullable(),
          indicators: z.number().int().nullable(),
          message: z.string().nullable(),
        }),
      ),
    })
    .nullable()
    .describe("The threat-intel feeds of this server's local intel state folder; null when it has none"),
});

export const RuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  ruleset: z.string().describe('builtin, sigma, or what a sensor sent for a rule this server does not ship'),
  severity: z.object({ min: z.enum(SEVERITIES), max: z.enum(SEVERITIES) }),
  techniques: z.array(z.string()),
  triage: z.string(),
  detectors: z.array(z.string()),
  fired: z.number().int().describe('Findings of this rule stored'),
  last_fired: z.string().nullable().describe('The newest last_seen of its findings'),
});
export const RulesList = z.object({ items: z.array(RuleSchema) });
export const RuleParams = z.strictObject({ id: shortText(512) });

// ---- incidents (src/cases/, routes/incidents.ts) ---------------------------------

const PHASE_NAMES = [
  'discovery',
  'isolation',
  'forensics',
  'eradication',
  'recovery',
  'review',
  'closed',
] as const;
const INCIDENT_ID = /^inc_[0-9a-f]{12}$/;
const CAMPAIGN_ID = /^cmp_[0-9a-f]{12}$/;
export const SlaClockSchema = z.object({
  due: z.string().nullable().describe('null: not started (review before recovery)'),
  met_at: z.string().nullable(),
  breached: z.boolean(),
});
export const IncidentLinkSchema = z.strictObject({
  title: shortText(200),
  url: z
    .string()
    .min(1)
    .max(2000)
    .regex(/^https?:\/\//, 'an http(s) URL'),
});
export const IncidentSchema = z.object({
  id: z.string(),
  title: z.string(),
  host: z.string().nullable(),
  hosts: z.array(z.string()),
  campaign: z.string().nullable(),
  severity: z.enum(SEVERITIES),
  phase: z.enum(PHASE_NAMES),
  phase_at: z.string(),
  phase_by: z.string().describe('Token id, or auto:<rule id>'),
  assignee: z.string().nullable(),
  links: z.array(IncidentLinkSchema),
  opened_at: z.string(),
  opened_by: z.string().describe('auto:<rule id> (opened by a finding) or the token id of the analyst'),
  closed_at: z.string().nullable(),
  updated_at: z.string(),
  findings: z.number().int().describe('Findings linked'),
  isolation_due: z.string().nullable(),
  review_due: z.string().nullable(),
  breached: z.array(z.enum(['isolation', 'review'])).describe('The SLA clocks breached'),
  sla: z.object({ isolation: SlaClockSchema, review: SlaClockSchema }),
  root_cause: z.string().nullable().describe('What caused it (the review); null until set'),
  lessons: z.string().nullable().describe('What was learned (the review); null until set'),
});
export const IncidentsPage = z.object({ items: z.array(IncidentSchema), next: z.string().nullable() });
export const IncidentsQuery = z.strictObject({
  phase: z.enum(PHASE_NAMES).optional(),
  host: shortText(253).optional(),
  campaign: z.string().regex(CAMPAIGN_ID).optional(),
  limit: limit(),
  cursor: cursor(),
});
export const IncidentParams = z.strictObject({ id: z.string().regex(INCIDENT_ID, 'an incident id (inc_…)') });
export const CampaignParams = z.strictObject({ id: z.string().regex(CAMPAIGN_ID, 'a campaign id (cmp_…)') });
export const IncidentEventSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  kind: z.enum([
    'opened',
    'finding',
    'note',
    'phase',
    'assignment',
    'update',
    'action',
    'campaign',
    'sla_breached',
  ]),
  data: z.record(z.string(), z.unknown()),
});
export const IndicatorSchema = z.object({
  kind: z.enum(['wallet', 'pool', 'hash', 'domain']),
  value: z.string(),
  coin: z.string().nullable().describe('Wallets: monero or bytecoin (the address checks out for it)'),
  first_seen: z.string(),
});
export const IncidentDetailSchema = IncidentSchema.extend({
  timeline: z.array(IncidentEventSchema),
  finding_fingerprints: z.array(z.string()),
  indicators: z.array(IndicatorSchema),
});
/** Root cause and lessons: free text, bounded (the store's MAX_REVIEW_TEXT). */
const reviewText = () => z.string().max(20_000).nullable().optional();
export const IncidentCreateBody = z.strictObject({
  title: shortText(300),
  host: shortText(253).optional(),
  severity: z.enum(SEVERITIES).optional().describe('Default: medium'),
  note: z.string().min(1).max(10_000).optional().describe("The reporter's words"),
});
export const IncidentPatchBody = z
  .strictObject({
    title: shortText(300).optional(),
    assignee: shortText(200).nullable().optional().describe('null: unassigned'),
    links: z.array(IncidentLinkSchema).max(50).optional().describe('Replaces the list'),
    root_cause: reviewText().describe('What caused it; null or empty clears it'),
    lessons: reviewText().describe('What was learned; null or empty clears it'),
  })
  .refine(
    (b) => Object.keys(b).length > 0,
    'give at least one of title, assignee, links, root_cause, lessons',
  );
export const PhaseBody = z.strictObject({
  to: z.enum(PHASE_NAMES),
  note: z.string().min(1).max(10_000).optional(),
});
export const NoteBody = z.strictObject({ text: z.string().min(1).max(10_000) });
export const ActionBody = z.strictObject({
  kind: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case words: isolate, release, kill, quarantine.file …'),
  detail: z.record(z.string(), z.unknown()).optional(),
});
export const ReportQuery = z.strictObject({
  format: z
    .enum(['md', 'html', 'json'])
    .optional()
    .describe('Default: md; html is a self-contained page (no script, no external resource)'),
});
export const MonthParams = z.strictObject({
  month: z
    .string()
    .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM (UTC), e.g. 2026-11')
    .refine((m) => m >= '1970-01', 'a month from 1970-01 on'),
});
export const CampaignSchema = z.object({
  id: z.string(),
  created_at: z.string(),
  hosts: z.array(z.string()),
  incidents: z.array(
    z.object({
      id: z.string(),
      host: z.string().nullable(),
      phase: z.string(),
      opened_at: z.string(),
      title: z.string(),
    }),
  ),
  indicators: z.array(IndicatorSchema),
});
export const CampaignsList = z.object({ items: z.array(CampaignSchema), next: z.null() });

export const IntelFeedSchema = z.object({
  name: z.string(),
  format: z.string().describe('The configured format (auto until the first update detects it)'),
  role: z.enum(['block', 'allow']),
  url: z
    .string()
    .nullable()
    .describe('Where it is downloaded from, user name, password and key-like query values redacted'),
  file: z.string().nullable().describe('The local file it is read from'),
  enabled: z.boolean(),
  interval_s: z.number().int().describe('How long an update leaves it alone after the last attempt'),
  health: z
    .enum(['ok', 'stale', 'failing', 'never-fetched'])
    .describe(
      'failing: the last update failed or found no indicators (the last good copy stays in use); stale: no success in three intervals',
    ),
  status: z
    .enum(['ok', 'not-modified', 'failed', 'empty'])
    .nullable()
    .describe("The last update's outcome; null when never fetched"),
  last_attempt: z.string().nullable(),
  last_success: z.string().nullable(),
  indicators: z.number().int().describe('Indicators of the copy in use'),
  issues: z.number().int().describe('Lines the last good copy had that were skipped'),
  message: z.string().nullable().describe('The last error or warning'),
  next_update_due: z
    .string()
    .nullable()
    .describe(
      'When an update next fetches it (the last attempt plus the interval); null: at the next update',
    ),
});
export const IntelFeedsList = z.object({
  configured: z
    .boolean()
    .describe(
      "Whether this server has intel feeds configured (the config file's intel.feeds); false: items are what its intel state folder holds, if anything",
    ),
  refreshing: z.boolean().describe('An update runs now'),
  items: z.array(IntelFeedSchema),
});
export const LearnedPoolSchema = z.object({
  endpoint: z.string().describe('`ip:port` (`[v6]:port`), or the address alone when no port was seen'),
  ip: z.string(),
  port: z.number().int().optional(),
  name: z.string().optional().describe('The DNS or TLS name that led to the pool, when one was seen'),
  protocol: z.string().optional().describe('The mining protocol seen (stratum, xmrig-json-rpc, getwork …)'),
  first_seen: z.string().describe('When a host was first seen mining there (UTC)'),
  last_seen: z
    .string()
    .describe('When a host was last seen mining there (UTC); clients keep it 7 days from this'),
});
export const LearnedPoolsList = z.object({
  since: z.string().describe('Mining seen at or after this time counts'),
  items: z.array(LearnedPoolSchema).describe('Newest first, at most 10,000'),
});
export const IntelRefreshBody = z.strictObject({
  force: z.boolean().optional().describe('Fetch every enabled feed even within its interval (default false)'),
});
export const IntelRefreshResult = z.object({
  force: z.boolean(),
  started_at: z.string(),
  finished_at: z.string(),
  outcomes: z.array(
    z.object({
      name: z.string(),
      status: z
        .enum(['ok', 'not-modified', 'failed', 'empty', 'fresh'])
        .describe('fresh: within its interval, not fetched'),
      indicators: z.number().int(),
      issues: z.number().int(),
      attempts: z.number().int(),
      message: z.string().nullable(),
    }),
  ),
});
