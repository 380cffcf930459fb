/**
 * Events are ECS-shaped records. Only the parts that several stages read are
 * typed here; sources may add any other ECS field set.
 */
export interface EcsEvent {
  '@timestamp'?: string;
  event?: {
    code?: string;
    kind?: string;
    category?: string[];
    action?: string;
    provider?: string;
    dataset?: string;
    original?: string;
  };
  host?: { name?: string; hostname?: string; ip?: string[] };
  process?: EcsProcess;
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  network?: { transport?: string; protocol?: string; direction?: string };
  dns?: {
    question?: { name?: string; type?: string };
    answers?: { name?: string; type?: string; data?: string }[];
  };
  tls?: {
    server_name?: string;
    server?: { x509?: { subject?: { common_name?: string[] }; alternative_names?: string[] } };
  };
  winlog?: {
    channel?: string;
    record_id?: number | string;
    event_id?: number | string;
    computer_name?: string;
    event_data?: Record<string, unknown>;
  };
  file?: { path?: string; name?: string };
  user?: { name?: string; id?: string };
  /** Where the record came from (file and offset/line/frame) for evidence. */
  log?: { file?: { path?: string }; offset?: number; line?: number };
  [key: string]: unknown;
}

export interface EcsProcess {
  pid?: number;
  ppid?: number;
  name?: string;
  executable?: string;
  command_line?: string;
  args?: string[];
  working_directory?: string;
  start?: string;
  hash?: { sha256?: string };
  parent?: { pid?: number; name?: string; executable?: string; command_line?: string };
  user?: { id?: string; name?: string };
}

export interface EcsEndpoint {
  ip?: string;
  port?: number;
  domain?: string;
  address?: string;
}
