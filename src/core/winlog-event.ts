import { z } from 'zod';
import type { EcsEvent } from './event.ts';
import { ecsEventObject, winlogFields } from './event.ts';

/** An event from a Windows event log, as the winlog sources emit it (built on first use, see event.ts). */
export const WinlogEventSchema = z.lazy(() =>
  ecsEventObject().extend({
    winlog: z.looseObject({
      ...winlogFields(),
      provider_name: z.string().optional(),
      provider_guid: z.string().optional(),
      user_data: z.record(z.string(), z.unknown()).optional(),
      /** System fields Sigma rules sometimes read (Level, Task, Opcode, Keywords, Version). */
      system: z.record(z.string(), z.string()).optional(),
      user: z.looseObject({ identifier: z.string().optional() }).optional(),
    }),
  }),
);
export type WinlogEvent = z.infer<typeof WinlogEventSchema>;

export function isWinlogEvent(e: EcsEvent): e is WinlogEvent {
  return typeof e.winlog === 'object' && e.winlog !== null;
}
