/**
 * The isolation responder's one interface (DESIGN.md §2, "a Responder plans
 * actions and applies them"), shared by every backend under
 * `src/respond/isolate/<backend>/`: the CLI uses it today; the server's
 * `POST /hosts/{id}/isolate`, automatic policy and the agent's local firewall
 * path are meant to call the same functions (see `run.ts`).
 */

/** A host to isolate: one address, with the L2 details some backends can also match on. */
export interface IsolationTarget {
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  readonly ip: string;
  readonly family: 4 | 6;
  /** Lower-case `aa:bb:cc:dd:ee:ff`. */
  readonly mac?: string;
  /** A switch port: an OpenFlow port number (ovs, ryu, onos, odl) or what the generic template wants. */
  readonly port?: string;
}

export type StepPurpose = 'read' | 'apply' | 'release';

/**
 * One request or command, exactly as it is sent (secrets in headers are
 * shown redacted: the plan is printed and logged). `--dry-run` prints these.
 */
export type Step =
  | {
      kind: 'http';
      purpose: StepPurpose;
      method: string;
      url: string;
      headers: Record<string, string>;
      body?: string;
    }
  | { kind: 'exec'; purpose: StepPurpose; argv: string[]; stdin?: string };

export type HttpStep = Extract<Step, { kind: 'http' }>;
export type ExecStep = Extract<Step, { kind: 'exec' }>;

/** What came back for one step. */
export interface Answer {
  status?: number;
  location?: string;
  exitCode?: number;
  /** The answer body or stdout, cut to a few KiB for the record. */
  body?: string;
  stderr?: string;
}

/** One step sent, its answer (or the error that stopped it) and how long it took. */
export interface Exchange {
  step: Step;
  at: string;
  ms: number;
  answer?: Answer;
  error?: string;
}

/** The rules that isolate a target, checked one by one against what the device reports. */
export interface RuleCheck {
  /** Every rule isolation needs, by its short description (e.g. `ip,nw_src=192.0.2.10 drop`). */
  readonly expected: readonly string[];
  readonly present: readonly string[];
  /** Rules of ours for this target that the device reports but that are not (yet) effective, e.g. ONOS PENDING_ADD. */
  readonly pending?: readonly string[];
  /** What was read, in a sentence (where from, what was found). */
  readonly detail: string;
  /** Identifiers the controller gave our rules (ONOS flow ids), for release and the record. */
  readonly ids?: readonly string[];
}

export type IsolationState = 'isolated' | 'not_isolated' | 'partial';

export function stateOf(check: RuleCheck): IsolationState {
  if (check.expected.length > 0 && check.present.length === check.expected.length) return 'isolated';
  return check.present.length === 0 && (check.pending?.length ?? 0) === 0 ? 'not_isolated' : 'partial';
}

/** Sends steps and records them: one per run, so the result lists every exchange in order. */
export interface StepRunner {
  http(step: HttpStep, secretHeaders?: Record<string, string>): Promise<Answer>;
  exec(step: ExecStep): Promise<Answer>;
}

/**
 * A backend. `plan` is pure: the steps a run would send, in order, for a
 * dry run or an approval screen (the pre-check read first). The others talk
 * to the device or controller through the runner and throw an `ActionError`
 * when they cannot.
 */
export interface IsolationBackend {
  readonly name: string;
  /** The exact requests or commands `isolate`/`release` would send. */
  plan(action: 'isolate' | 'release', target: IsolationTarget): Step[];
  /** Installs the rules (idempotent: what is already there is not duplicated). */
  apply(target: IsolationTarget, io: StepRunner): Promise<void>;
  /** Reads the rules back from the device or controller. */
  verify(target: IsolationTarget, io: StepRunner): Promise<RuleCheck>;
  /** `verify`, summed up: isolated, not isolated or partial. */
  status(target: IsolationTarget, io: StepRunner): Promise<{ state: IsolationState; check: RuleCheck }>;
  /** Removes the rules (idempotent: nothing there is success). `verify` then proves them gone. */
  release(target: IsolationTarget, io: StepRunner, known?: RuleCheck): Promise<void>;
  /** Read-back may lag the change (controllers poll switches): how long `run` polls before retrying. */
  readonly settleMs: number;
}

/** Fills in `status` from `verify` so that each backend writes only what differs. */
export function withStatus(b: Omit<IsolationBackend, 'status'>): IsolationBackend {
  return {
    ...b,
    async status(target, io) {
      const check = await b.verify(target, io);
      return { state: stateOf(check), check };
    },
  };
}
