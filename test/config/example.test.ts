import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';

const example = fileURLToPath(new URL('../../config/lightbox.example.json', import.meta.url));

test('the example configuration file is valid and is what it says', (t) => {
  const config = loadConfig({ env: {}, file: example });
  t.deepEqual(config.gateway.allowedCallingAETitles, ['CT01', 'MR01', 'PACS']);
  t.is(config.queue.kind, 'in-process');
  t.is(config.objects.kind, 'fs');
  t.is(config.index.kind, 'pglite');
  t.true(Object.isFrozen(config.gateway));
});
