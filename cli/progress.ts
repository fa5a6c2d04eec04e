/**
 * Progress on stderr: a bar redrawn in place when stderr is a terminal, otherwise (a log file, CI)
 * one plain line every `every` items and at the end, so that logs stay readable.
 */
export interface Progress {
  tick(done: number): void;
  finish(): void;
}

export function progress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  label: string,
  total: number,
  every = 100,
): Progress {
  const started = Date.now();
  let last = -1;
  const rate = (done: number) => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? `${(done / seconds).toFixed(1)}/s` : '';
  };
  if (stream.isTTY) {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 40));
    return {
      tick(done) {
        if (total <= 0) {
          stream.write(`\r${label} ${done} ${rate(done)}  `); // total unknown: a count
          last = done;
          return;
        }
        const filled = Math.round((done / total) * width);
        stream.write(
          `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${rate(done)}  `,
        );
        last = done;
      },
      finish() {
        if (last >= 0) stream.write('\n');
      },
    };
  }
  let printed = 0;
  return {
    tick(done) {
      if (done === total || done - printed >= every) {
        stream.write(`${label}: ${done}/${total}\n`);
        printed = done;
      }
    },
    finish() {},
  };
}
