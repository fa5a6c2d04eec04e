/**
 * Starting a worker thread on one of our own modules, from the build (dist: .js) or from source under
 * tsx (.ts). Node 20 does not apply the main thread's --import loader to a worker's entry module, so
 * from source the thread registers tsx itself before importing the entry.
 */
import { Worker } from 'node:worker_threads';

/**
 * A Worker running module `name` (without extension) beside `importMetaUrl` (the caller's
 * import.meta.url), with `workerData`.
 */
export function startModuleThread(
  name: string,
  importMetaUrl: string,
  workerData: unknown,
): Worker {
  const extension = importMetaUrl.endsWith('.ts') ? 'ts' : 'js';
  const entry = new URL(`./${name}.${extension}`, importMetaUrl);
  if (extension === 'js') return new Worker(entry, { workerData });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
