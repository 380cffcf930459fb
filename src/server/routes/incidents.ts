import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { type CaseEngine, CaseError } from '../../cases/engine.ts';
import { buildMonthly, monthlyHtml, monthlyMarkdown } from '../../cases/monthly.ts';
import { buildReport, type ReportOptions, reportMarkdown } from '../../cases/report.ts';
import { reportHtml } from '../../cases/report-html.ts';
import type {
  CampaignRecord,
  IncidentEvent,
  IncidentPatch,
  IncidentRecord,
  IndicatorRecord,
} from '../../store/incident-types.ts';
import type { ServerDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { type ApiRoute, caller, defineRoute, ROLE_SETS } from '../route.ts';
import {
  ActionBody,
  CampaignParams,
  CampaignSchema,
  CampaignsList,
  IncidentCreateBody,
  IncidentDetailSchema,
  IncidentEventSchema,
  IncidentParams,
  IncidentPatchBody,
  IncidentSchema,
  IncidentsPage,
  IncidentsQuery,
  MonthParams,
  NoteBody,
  PhaseBody,
  ReportQuery,
} from '../schemas.ts';

/** The HTML reports' policy: nothing loads, nothing runs; only their own inline style applies. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * The incident workflow's API (docs/incidents.md): viewers read, analysts
 * and admins change. Every change is audited by the server (app.ts) with
 * the incident as its target. The rules live in src/cases/; this maps them
 * to HTTP.
 */

type ApiIncident = z.output<typeof IncidentSchema>;

export function apiIncident(engine: CaseEngine, i: IncidentRecord): ApiIncident {
  const sla = engine.slaOf(i);
  return {
    id: i.id,
    title: i.title,
    host: i.hostName,
    hosts: i.hostName === null ? [] : [i.hostName],
    campaign: i.campaignId,
    severity: i.severity,
    phase: i.phase as ApiIncident['phase'],
    phase_at: i.phaseAt,
    phase_by: i.phaseBy,
    assignee: i.assignee,
    links: i.links,
    opened_at: i.openedAt,
    opened_by: i.openedBy,
    closed_at: i.closedAt,
    updated_at: i.updatedAt,
    findings: i.findings,
    isolation_due: sla.isolation.due,
    review_due: sla.review.due,
    breached: (['isolation', 'review'] as const).filter((c) => sla[c].breached),
    sla,
    root_cause: i.rootCause,
    lessons: i.lessons,
  };
}

function apiEvent(e: IncidentEvent): z.output<typeof IncidentEventSchema> {
  return { seq: e.seq, at: e.at, actor: e.actor, kind: e.kind, data: e.data };
}

function apiIndicator(i: IndicatorRecord) {
  return {
    kind: i.kind as 'wallet' | 'pool' | 'hash' | 'domain',
    value: i.value,
    coin: i.coin,
    first_seen: i.firstSeen,
  };
}

function apiCampaign(c: CampaignRecord): z.output<typeof CampaignSchema> {
  return {
    id: c.id,
    created_at: c.createdAt,
    hosts: [...new Set(c.incidents.map((i) => i.hostName).filter((h): h is string => h !== null))].sort(),
    incidents: c.incidents.map((i) => ({
      id: i.id,
      host: i.hostName,
      phase: i.phase,
      opened_at: i.openedAt,
      title: i.title,
    })),
    indicators: c.indicators.map(apiIndicator),
  };
}

/** A report in the format asked for: its JSON, Markdown, or the HTML page under a policy that loads and runs nothing. */
function answerReport<T>(
  reply: FastifyReply,
  format: 'md' | 'html' | 'json' | undefined,
  value: T,
  markdown: (v: T) => string,
  html: (v: T) => string,
): unknown {
  if (format === 'json') return value;
  if (format === 'html') {
    reply.type('text/html; charset=utf-8');
    reply.header('content-security-policy', REPORT_CSP);
    reply.header('referrer-policy', 'no-referrer');
    return html(value);
  }
  reply.type('text/markdown; charset=utf-8');
  return markdown(value);
}

/** The cases layer's refusals as API errors (also for routes/tasks.ts). */
export async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof CaseError)) throw e;
    const field = e.location === undefined ? {} : { field: e.location };
    const message = e.location === undefined ? e.message : e.message.slice(e.location.length + 2);
    switch (e.code) {
      case 'CASE_NOT_FOUND':
        throw new ApiError('DEMINER_NOT_FOUND', message, field);
      case 'CASE_BAD_MOVE':
      case 'CASE_UNPROCESSABLE':
        throw new ApiError('DEMINER_UNPROCESSABLE', message, field);
      default:
        throw new ApiError('DEMINER_CONFLICT', message, field);
    }
  }
}

/**
 * `reports`: the cost model's settings and the evidence provider the
 * reports use (default: the documented defaults, no evidence collection).
 */
export function incidentRoutes(
  deps: ServerDeps,
  engine: CaseEngine,
  reports: Pick<ReportOptions, 'impact' | 'evidence' | 'hostCores' | 'hostWattsPerCore'> = {},
): ApiRoute[] {
  const store = engine.store;
  const reportOptions: ReportOptions = { ...reports, defaultIntervalS: deps.agentConfig.interval_s };
  const detail = async (id: string) => {
    const { incident } = await engine.view(id);
    return {
      ...apiIncident(engine, incident),
      timeline: (await store.incidents.events(id)).map(apiEvent),
      finding_fingerprints: await store.incidents.linkedFindings(id),
      indicators: (await store.incidents.indicators(id)).map(apiIndicator),
    };
  };
  const notFound = { 404: 'No incident has this id' };
  return [
    defineRoute({
      method: 'GET',
      url: '/incidents',
      operationId: 'listIncidents',
      summary: 'Incidents, newest first, filtered by phase, host or campaign',
      action: 'incidents.list',
      access: ROLE_SETS.read,
      query: IncidentsQuery,
      status: 200,
      response: { description: 'One page of incidents', schema: IncidentsPage },
      async handler({ query }) {
        const page = await store.incidents.list(query);
        await engine.raiseBreaches(page.items);
        return { items: page.items.map((i) => apiIncident(engine, i)), next: page.next };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/incidents',
      operationId: 'openIncident',
      summary: "Open an incident by hand (a user's report)",
      action: 'incidents.open',
      access: ROLE_SETS.acknowledge,
      body: IncidentCreateBody,
      status: 201,
      response: { description: 'The new incident', schema: IncidentSchema },
      errors: { 409: 'The host already has an open incident (the message names it)' },
      async handler({ body, auth, state }) {
        const who = caller(auth);
        const i = await mapped(() =>
          engine.openManual({
            title: body.title,
            actor: who.id,
            ...(body.host === undefined ? {} : { host: body.host }),
            ...(body.severity === undefined ? {} : { severity: body.severity }),
            ...(body.note === undefined ? {} : { note: body.note }),
          }),
        );
        state.target = i.id;
        state.detail = { host: i.hostName, severity: i.severity };
        return apiIncident(engine, i);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/incidents/:id',
      operationId: 'getIncident',
      summary: 'One incident with its timeline, findings and indicators',
      action: 'incidents.get',
      access: ROLE_SETS.read,
      params: IncidentParams,
      status: 200,
      response: { description: 'The incident', schema: IncidentDetailSchema },
      errors: notFound,
      async handler({ params }) {
        return mapped(() => detail(params.id));
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/incidents/:id',
      operationId: 'updateIncident',
      summary: 'Change the title, assignee, links, root cause or lessons',
      action: 'incidents.update',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: IncidentPatchBody,
      status: 200,
      response: { description: 'The incident', schema: IncidentSchema },
      errors: notFound,
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        state.detail = { fields: Object.keys(body) };
        // The engine hands the patch to the store as it is: the review's texts travel in it.
        const patch: IncidentPatch = {
          ...(body.title === undefined ? {} : { title: body.title }),
          ...(body.assignee === undefined ? {} : { assignee: body.assignee }),
          ...(body.links === undefined ? {} : { links: body.links }),
          ...(body.root_cause === undefined ? {} : { rootCause: body.root_cause }),
          ...(body.lessons === undefined ? {} : { lessons: body.lessons }),
        };
        return apiIncident(engine, await mapped(() => engine.update(params.id, patch, who.id)));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/incidents/:id/phase',
      operationId: 'moveIncident',
      summary: 'Move the incident to another phase (forward, or reopen from closed to discovery)',
      action: 'incidents.phase',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: PhaseBody,
      status: 200,
      response: { description: 'The incident after the move', schema: IncidentSchema },
      errors: {
        404: 'No incident has this id',
        409: 'The phase changed meanwhile, or (reopening) the host has another open incident',
        422: 'The move is not allowed (backwards, or from closed to anything but discovery); the message names it',
      },
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        state.detail = { to: body.to };
        const { incident } = await mapped(() => engine.move(params.id, body.to, who.id, body.note));
        return apiIncident(engine, incident);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/incidents/:id/notes',
      operationId: 'addIncidentNote',
      summary: 'Add a note to the timeline',
      action: 'incidents.note',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: NoteBody,
      status: 201,
      response: { description: 'The timeline entry', schema: IncidentEventSchema },
      errors: notFound,
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        state.detail = { length: body.text.length };
        return apiEvent(await mapped(() => engine.note(params.id, body.text, who.id)));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/incidents/:id/actions',
      operationId: 'addIncidentAction',
      summary: 'Record an action another component took for the incident (isolate, release, kill …)',
      action: 'incidents.action',
      access: ROLE_SETS.acknowledge,
      params: IncidentParams,
      body: ActionBody,
      status: 201,
      response: { description: 'The timeline entry', schema: IncidentEventSchema },
      errors: notFound,
      async handler({ params, body, auth, state }) {
        const who = caller(auth);
        state.target = params.id;
        state.detail = { kind: body.kind };
        return apiEvent(await mapped(() => engine.action(params.id, body.kind, body.detail ?? {}, who.id)));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/incidents/:id/report',
      operationId: 'incidentReport',
      summary: 'The incident report: Markdown (default), a self-contained HTML page (?format=html) or JSON',
      action: 'incidents.report',
      access: ROLE_SETS.read,
      params: IncidentParams,
      query: ReportQuery,
      status: 200,
      response: {
        description:
          'The report as Markdown (text/markdown), HTML (text/html, with a Content-Security-Policy that loads and runs nothing) or its JSON',
        contentType: 'text/markdown',
      },
      errors: notFound,
      async handler({ params, query, reply }) {
        const report = await mapped(() => buildReport(engine, params.id, reportOptions));
        return answerReport(reply, query.format, report, reportMarkdown, reportHtml);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/reports/month/:month',
      operationId: 'monthlyReport',
      summary:
        'The incidents opened in one UTC month: counts by phase and severity, mean times, SLA breaches, cost, hosts, campaigns',
      action: 'reports.month',
      access: ROLE_SETS.read,
      params: MonthParams,
      query: ReportQuery,
      status: 200,
      response: {
        description: 'The summary as Markdown (text/markdown), HTML (text/html) or its JSON',
        contentType: 'text/markdown',
      },
      async handler({ params, query, reply }) {
        const summary = await buildMonthly(engine, params.month, reportOptions);
        return answerReport(reply, query.format, summary, monthlyMarkdown, monthlyHtml);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/campaigns',
      operationId: 'listCampaigns',
      summary: 'Campaigns: incidents linked by a shared wallet, pool, binary hash or C2 domain',
      action: 'campaigns.list',
      access: ROLE_SETS.read,
      status: 200,
      response: { description: 'Campaigns, newest first (at most 500)', schema: CampaignsList },
      async handler() {
        return { items: (await store.incidents.campaigns()).map(apiCampaign), next: null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/campaigns/:id',
      operationId: 'getCampaign',
      summary: 'One campaign (a merged one answers as the campaign it was merged into)',
      action: 'campaigns.get',
      access: ROLE_SETS.read,
      params: CampaignParams,
      status: 200,
      response: { description: 'The campaign', schema: CampaignSchema },
      errors: { 404: 'No campaign has this id' },
      async handler({ params }) {
        const c = await store.incidents.campaign(params.id);
        if (!c) throw new ApiError('DEMINER_NOT_FOUND', 'no campaign has this id', { field: 'id' });
        return apiCampaign(c);
      },
    }),
  ];
}
