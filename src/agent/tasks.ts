import { join } from 'node:path';
import { describeError } from '../core/errors.ts';
import { LruMap } from '../detect/network/lru-map.ts';
import { type TaskDirective, TaskDirectiveSchema, type TaskResult } from '../respond/host-tasks/protocol.ts';
import { eradicate } from './eradicate.ts';
import { type Artifact, collect } from './forensics.ts';

/**
 * The agent's side of forensics and eradication (issue 17): tasks arrive in
 * heartbeat answers, run one at a time in the background (scans go on), and
 * end with a report to the server. A task is run once per agent run (the
 * server hands a running task out again only after 30 minutes, for an agent
 * that restarted in the middle of it). A task the agent cannot read is
 * reported as failed, never guessed at.
 */

export interface AgentTasksOptions {
  stateDir: string;
  fsRoot?: string;
  upload: (taskId: string, a: Artifact) => Promise<{ id: string; sha256: string }>;
  report: (taskId: string, r: TaskResult) => Promise<void>;
  log: (m: string) => void;
}

const REMEMBERED = 1000;

export class AgentTasks {
  readonly #o: AgentTasksOptions;
  readonly #seen = new LruMap<string, true>(REMEMBERED);
  readonly #queue: TaskDirective[] = [];
  #running: Promise<void> | undefined;

  constructor(o: AgentTasksOptions) {
    this.#o = o;
  }

  onHeartbeat(tasks: readonly unknown[] | undefined): void {
    for (const raw of tasks ?? []) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id.length > 64 || this.#seen.has(id)) continue;
      this.#seen.set(id, true);
      const parsed = TaskDirectiveSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        this.#report(id, {
          ok: false,
          steps: [],
          evidence: [],
          error: `the agent cannot read this task: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
        });
        continue;
      }
      this.#queue.push(parsed.data);
    }
    if (this.#queue.length > 0 && !this.#running)
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
      });
  }

  /** Resolves once every task handed over so far has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const t = this.#queue.shift()!;
      this.#o.log(`task ${t.id}: ${t.kind}`);
      let result: TaskResult;
      try {
        if (t.kind === 'collect') {
          const r = await collect(t.params, {
            scratch: join(this.#o.stateDir, 'evidence-scratch'),
            ...(this.#o.fsRoot ? { fsRoot: this.#o.fsRoot } : {}),
            upload: (a) => this.#o.upload(t.id, a),
          });
          result = { ok: r.steps.every((s) => s.ok && s.verified), steps: r.steps, evidence: r.evidence };
        } else {
          const steps = await eradicate(t.params, {
            quarantine: join(this.#o.stateDir, 'quarantine'),
            ...(this.#o.fsRoot ? { fsRoot: this.#o.fsRoot } : {}),
          });
          result = { ok: steps.every((s) => s.ok && s.verified), steps, evidence: [] };
        }
      } catch (e) {
        result = { ok: false, steps: [], evidence: [], error: describeError(e).slice(0, 4000) };
      }
      await this.#report(t.id, result);
    }
  }

  async #report(id: string, r: TaskResult): Promise<void> {
    // Kept within what the server takes: at most 500 steps.
    const result: TaskResult = { ...r, steps: r.steps.slice(0, 500), evidence: r.evidence.slice(0, 500) };
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await this.#o.report(id, result);
        this.#o.log(`task ${id}: ${result.ok ? 'done' : 'failed'} (${result.steps.length} steps)`);
        return;
      } catch (e) {
        this.#o.log(`task ${id}: report failed (${describeError(e)}), attempt ${attempt}`);
        await new Promise((ok) => setTimeout(ok, 2000 * attempt).unref());
      }
    }
  }
}
