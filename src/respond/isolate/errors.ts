import { DeminerError } from '../../core/errors.ts';

/**
 * An isolation step that failed: the controller refused or never answered,
 * a command exited non-zero, or the rules could not be read back in place.
 * `retryable` says whether trying again may help (a timeout, a 500) or not
 * (401, an unknown device, a missing bridge): `run` retries only the former.
 */
export class ActionError extends DeminerError {
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(code, message, { cause: options.cause });
    this.name = 'ActionError';
    this.retryable = options.retryable;
  }
}
