// Writing to a client as fast as it reads: waiting for a full socket to drain, and
// gathering the writes of one event-loop turn into one system call.
import type { ServerResponse } from 'node:http';

/** Wait until the client's socket takes more data (or is gone). */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * What is written in one turn of the event loop goes out in one system call: the head, the
 * chunks that arrived together and, for a stream that ended, its last chunk and trailer
 * (end() uncorks). The socket is corked, not the response: a corked response holds its
 * chunks back until uncorked, and end() writes the terminating chunk before them.
 */
export function writeCorked(res: ServerResponse, piece: string | Buffer): boolean {
  const socket = res.socket;
  if (socket && socket.writableCorked === 0) {
    socket.cork();
    setImmediate(uncork, res, socket);
  }
  return res.write(piece);
}

function uncork(res: ServerResponse, socket: NonNullable<ServerResponse['socket']>): void {
  // Ended meanwhile: end() flushed it, and the socket may serve the next request by now.
  if (!res.writableEnded && res.socket === socket && socket.writableCorked > 0) socket.uncork();
}
