import { closeSync, openSync, writeSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';

/** Text is gathered up to this many UTF-16 units before it is written. */
const FLUSH_AT = 1 << 16;

/**
 * Where `search` and `metrics` write: stdout, or the file of `-o/--output`
 * (created 0644; its folder must exist). Output is written in pieces as it
 * is made, with the stream's backpressure honoured, so a search with a
 * million hits holds one piece at a time. A reader that goes away
 * (`| head -1`) ends the output quietly: `closed` turns true and the rest is
 * dropped, instead of an EPIPE stack trace.
 */
export class OutputChannel {
  private parts: string[] = [];
  private size = 0;
  private gone = false;
  private failure: Error | undefined;
  private readonly onError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.gone = true;
    else this.failure ??= e;
  };

  private constructor(
    private readonly fd: number | undefined,
    /** The file written, or undefined for stdout. */
    readonly file: string | undefined,
  ) {
    if (fd === undefined) process.stdout.on('error', this.onError);
  }

  /** Opens the output now, so that a bad `-o` is a usage error before any work is done. */
  static open(file: string | undefined): OutputChannel {
    if (file === undefined) return new OutputChannel(undefined, undefined);
    let fd: number;
    try {
      fd = openSync(file, 'w', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'its folder does not exist'
          : code === 'EISDIR'
            ? 'it is a folder'
            : code === 'EACCES'
              ? 'permission denied'
              : (e as Error).message;
      throw new UsageError('OUTPUT_UNWRITABLE', `cannot write the output file: ${why}`, {
        location: file,
        cause: e,
      });
    }
    return new OutputChannel(fd, file);
  }

  /** Writing to a terminal (colours, width): never when writing to a file. */
  get isTTY(): boolean {
    return this.fd === undefined && process.stdout.isTTY === true;
  }

  get columns(): number | undefined {
    return this.fd === undefined ? process.stdout.columns : undefined;
  }

  /** The reader has gone (a closed pipe): nothing more will be written. */
  get closed(): boolean {
    return this.gone;
  }

  write(text: string): void {
    if (this.gone || text === '') return;
    this.parts.push(text);
    this.size += text.length;
  }

  /** A promise to wait on when enough is gathered to be written; undefined otherwise. */
  pending(): Promise<void> | undefined {
    return this.size >= FLUSH_AT ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.gone) return;
    if (this.fd !== undefined) {
      writeAll(this.fd, text, this.file ?? '');
      return;
    }
    const out = process.stdout;
    if (out.destroyed) {
      this.gone = true;
      return;
    }
    if (!out.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.off('drain', done);
          out.off('close', done);
          out.off('error', done);
          resolve();
        };
        out.on('drain', done);
        out.on('close', done);
        out.on('error', done);
      });
    }
    this.throwIfFailed();
  }

  /** Writes what is left and closes the file (stdout stays open). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
    }
  }

  private throwIfFailed(): void {
    if (this.failure)
      throw new UsageError('OUTPUT_WRITE_FAILED', `cannot write the output: ${this.failure.message}`, {
        location: this.file ?? 'stdout',
        cause: this.failure,
      });
  }
}

function writeAll(fd: number, text: string, file: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch (e) {
    throw new UsageError('OUTPUT_WRITE_FAILED', `cannot write the output: ${(e as Error).message}`, {
      location: file,
      cause: e,
    });
  }
}
