import { z } from 'zod';

/**
 * Events are ECS-shaped records. The schemas here name the parts that several
 * stages read; an event may carry any other ECS field set, so every object of
 * an event is open (unknown keys pass). The server validates event bodies with
 * `EcsEventSchema`; detectors take the TypeScript type and never parse per event.
 *
 * The process and endpoint blocks of a finding are closed (`EcsProcessSchema`,
 * `EcsEndpointSchema`): a finding carries only the fields its contract names.
 *
 * Schemas are built on first use (`z.lazy`): zod takes about a millisecond
 * per object schema, and every command loads these modules while only the
 * server and tests parse with them.
 */

const pid = () => z.number().int().nonnegative();
const port = () => z.number().int().min(0).max(65535);

const parentFields = () => ({
  pid: pid().optional(),
  name: z.string().optional(),
  executable: z.string().optional(),
  command_line: z.string().optional(),
});
const processUserFields = () => ({ id: z.string().optional(), name: z.string().optional() });
const processFields = () => ({
  pid: pid().optional(),
  ppid: pid().optional(),
  name: z.string().optional(),
  executable: z.string().optional(),
  command_line: z.string().optional(),
  args: z.array(z.string()).optional(),
  working_directory: z.string().optional(),
  /** ISO-8601 UTC. */
  start: z.string().optional(),
});
const endpointFields = () => ({
  ip: z.string().optional(),
  port: port().optional(),
  domain: z.string().optional(),
  address: z.string().optional(),
});

/** The `process` block of a finding. */
export const EcsProcessSchema = z.lazy(() =>
  z.strictObject({
    ...processFields(),
    hash: z.strictObject({ sha256: z.string().optional() }).optional(),
    parent: z.strictObject(parentFields()).optional(),
    user: z.strictObject(processUserFields()).optional(),
  }),
);
export type EcsProcess = z.infer<typeof EcsProcessSchema>;

/** The `source` / `destination` block of a finding. */
export const EcsEndpointSchema = z.lazy(() => z.strictObject(endpointFields()));
export type EcsEndpoint = z.infer<typeof EcsEndpointSchema>;

const eventProcess = () =>
  z.looseObject({
    ...processFields(),
    hash: z.looseObject({ sha256: z.string().optional() }).optional(),
    parent: z.looseObject(parentFields()).optional(),
    user: z.looseObject(processUserFields()).optional(),
  });
const eventEndpoint = () => z.looseObject(endpointFields());

/** The `winlog` block as Winlogbeat names it; the winlog sources fill more of it (core/winlog-event.ts). */
export const winlogFields = () => ({
  channel: z.string().optional(),
  record_id: z.union([z.number(), z.string()]).optional(),
  event_id: z.union([z.number(), z.string()]).optional(),
  computer_name: z.string().optional(),
  event_data: z.record(z.string(), z.unknown()).optional(),
});

/** The open object behind `EcsEventSchema`, for schemas that extend it. */
export const ecsEventObject = () =>
  z.looseObject({
    /** ISO-8601; sources normalise to UTC with milliseconds. */
    '@timestamp': z.iso.datetime({ offset: true }).optional(),
    event: z
      .looseObject({
        code: z.string().optional(),
        kind: z.string().optional(),
        category: z.array(z.string()).optional(),
        action: z.string().optional(),
        provider: z.string().optional(),
        dataset: z.string().optional(),
        original: z.string().optional(),
      })
      .optional(),
    host: z
      .looseObject({
        name: z.string().optional(),
        hostname: z.string().optional(),
        ip: z.array(z.string()).optional(),
      })
      .optional(),
    process: eventProcess().optional(),
    source: eventEndpoint().optional(),
    destination: eventEndpoint().optional(),
    network: z
      .looseObject({
        transport: z.string().optional(),
        protocol: z.string().optional(),
        direction: z.string().optional(),
      })
      .optional(),
    dns: z
      .looseObject({
        question: z.looseObject({ name: z.string().optional(), type: z.string().optional() }).optional(),
        answers: z
          .array(
            z.looseObject({
              name: z.string().optional(),
              type: z.string().optional(),
              data: z.string().optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    tls: z
      .looseObject({
        server_name: z.string().optional(),
        server: z
          .looseObject({
            x509: z
              .looseObject({
                subject: z.looseObject({ common_name: z.array(z.string()).optional() }).optional(),
                alternative_names: z.array(z.string()).optional(),
              })
              .optional(),
          })
          .optional(),
      })
      .optional(),
    winlog: z.looseObject(winlogFields()).optional(),
    file: z.looseObject({ path: z.string().optional(), name: z.string().optional() }).optional(),
    user: z.looseObject({ name: z.string().optional(), id: z.string().optional() }).optional(),
    /** Where the record came from (file and offset/line/frame) for evidence. */
    log: z
      .looseObject({
        file: z.looseObject({ path: z.string().optional() }).optional(),
        offset: z.number().int().nonnegative().optional(),
        line: z.number().int().nonnegative().optional(),
      })
      .optional(),
  });

export const EcsEventSchema = z.lazy(ecsEventObject);
export type EcsEvent = z.infer<typeof EcsEventSchema>;

/**
 * The host name an event names, as written: the event log's Computer, else
 * ECS `host.name`, else `host.hostname`. Findings use its canonical form
 * (core/host-identity.ts).
 */
export function rawHostOf(e: EcsEvent): string | undefined {
  return e.winlog?.computer_name || e.host?.name || e.host?.hostname || undefined;
}
