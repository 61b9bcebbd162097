// Reading a whole body (a client's request, an upstream's answer) with listeners rather
// than `for await`, which costs a promise and a tick per chunk on every request.
import type { Readable } from 'node:stream';

export interface ReadWholeOptions {
  limitBytes: number;
  /**
   * Past the limit: the error to refuse with (reading stops, the rest is drained unread).
   * Absent: reading goes on, and only what fits is kept.
   */
  overLimit?: () => Error;
  /** The stream failed, or closed before its end (the connection cut). */
  failed: (error: Error | undefined) => Error;
}

export function readWhole(stream: Readable, options: ReadWholeOptions): Promise<Buffer> {
  const { limitBytes, overLimit, failed } = options;
  if (stream.destroyed) return Promise.reject(failed(stream.errored ?? undefined));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      if (size + chunk.length <= limitBytes) {
        size += chunk.length;
        parts.push(chunk);
      } else if (overLimit) {
        stop();
        parts.length = 0;
        stream.resume();
        reject(overLimit());
      }
    };
    const onEnd = () => {
      stop();
      resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(failed(error));
    };
    const onClose = () => {
      stop();
      reject(failed(stream.errored ?? undefined));
    };
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
