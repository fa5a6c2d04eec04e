/**
 * s3rver as a process of its own (`s3rver-main.ts <port> <directory>`), for tests that kill the
 * object store: see startS3rverProcess in private-services.ts. Fixed credentials S3RVER / S3RVER.
 */
import { createRequire } from 'node:module';

type S3rverConstructor = new (options: Record<string, unknown>) => { run(): Promise<unknown> };
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
const [port, directory] = process.argv.slice(2);
await new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true }).run();
