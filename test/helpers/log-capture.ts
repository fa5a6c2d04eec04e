/** A logger writing to memory at trace level, for tests that read what was logged (no PHI). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../core/log.js';

export function captureLog(): { log: Logger; text(): string; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level: 'trace' }, { process: 'test' }, sink);
  return { log, lines, text: () => lines.join('') };
}
