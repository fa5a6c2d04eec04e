import test from 'ava';
import { PassThrough } from 'node:stream';
import { progress } from '../../cli/progress.js';

function stream(isTTY: boolean) {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  return { s, text: () => text };
}

test('a terminal gets one bar redrawn in place, then a newline', (t) => {
  const { s, text } = stream(true);
  const bar = progress(s, 'import', 4);
  for (let i = 1; i <= 4; i++) bar.tick(i);
  bar.finish();
  const frames = text().split('\r').filter(Boolean);
  t.is(frames.length, 4);
  t.regex(frames[1], /^import \[#{20} {20}\] 2\/4 /);
  t.regex(frames[3], /^import \[#{40}\] 4\/4 .*\n$/);
  t.false(text().slice(0, -1).includes('\n'), 'no line feed until the end');
});

test('a pipe or a file gets a plain line every `every` items and at the end', (t) => {
  const { s, text } = stream(false);
  const bar = progress(s, 'verify', 250, 100);
  for (let i = 1; i <= 250; i++) bar.tick(i);
  bar.finish();
  t.is(text(), 'verify: 100/250\nverify: 200/250\nverify: 250/250\n');
});

test('an unknown total shows a count', (t) => {
  const { s, text } = stream(true);
  const bar = progress(s, 'reindex', 0);
  bar.tick(3);
  bar.finish();
  t.regex(text(), /^\rreindex 3 .*\n$/);
});
