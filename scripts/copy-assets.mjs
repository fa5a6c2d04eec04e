// Copies the non-TypeScript files the build needs next to the compiled code: SQL migrations and the
// portal's static files (served from dist/viewer-api/portal/).
import { cpSync } from 'node:fs';

cpSync('core/archive/migrations', 'dist/core/archive/migrations', { recursive: true });
cpSync('viewer-api/portal', 'dist/viewer-api/portal', { recursive: true });
