// Copies the non-TypeScript files the build needs next to the compiled code (SQL migrations).
import { cpSync } from 'node:fs';

cpSync('core/archive/migrations', 'dist/core/archive/migrations', { recursive: true });
