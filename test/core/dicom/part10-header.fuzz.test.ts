/**
 * Fuzzing of the Part 10 header reader at the dataset boundary: real files from the pydicom test
 * data (every transfer syntax it has, deflate included, and its deliberately broken files) mutated
 * at random: bytes flipped in the header, length fields set to extremes (0, odd, 0xFFFF,
 * 0xFFFFFFFF…), the file cut, bytes inserted or removed. Whatever the bytes, readPart10Header and
 * extractIndexedAttributes must settle promptly with a header or a LightboxError (the gateway maps
 * it to a DIMSE status), never another exception and never a hang.
 *
 * The whole mutated file is handed over as the known head, as the gateway does after a reception.
 */
import test from 'ava';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { extractIndexedAttributes } from '../../../core/dicom/attributes.js';
import { readPart10Header } from '../../../core/dicom/part10-header.js';
import { isLightboxError } from '../../../core/errors.js';
import { fuzzBudget } from '../../helpers/fuzz.js';
import { pydicomManifest } from '../../helpers/samples.js';
import { requireService } from '../../helpers/tools.js';

/** Files up to this size (the header sits at the start; larger files only slow the runs). */
const MAX_FILE = 512 * 1024;

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'length16'; at: number; value: number }
  | { kind: 'length32'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

type MutationDraw = [
  { f: number; header: boolean },
  number,
  number,
  number,
  number,
  Uint8Array,
  number,
];

/** Positions as fractions of the header region (the first 4 KiB), or of the whole file. */
const position = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({ f, header: true })),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({ f, header: false })),
);
const extremes16 = fc.constantFrom(0, 1, 3, 0xfffe, 0xffff);
const extremes32 = fc.constantFrom(0, 1, 3, 0x7fffffff, 0xfffffffe, 0xffffffff, 0x00010000);

const mutation: fc.Arbitrary<MutationDraw> = fc.tuple(
  position,
  fc.nat(5),
  fc.integer({ min: 0, max: 255 }),
  extremes16,
  extremes32,
  fc.uint8Array({ minLength: 1, maxLength: 16 }),
  fc.integer({ min: 1, max: 64 }),
);

function apply(
  file: Buffer,
  [pos, kind, byte, v16, v32, bytes, count]: MutationDraw,
): { out: Buffer; m: Mutation } {
  const span = pos.header ? Math.min(file.length, 4096) : file.length;
  const at = Math.min(Math.floor(pos.f * span), Math.max(0, file.length - 1));
  const out = Buffer.from(file);
  switch (kind) {
    case 0:
      out[at] = byte;
      return { out, m: { kind: 'flip', at, value: byte } };
    case 1:
      if (at + 2 <= out.length) out.writeUInt16LE(v16, at);
      return { out, m: { kind: 'length16', at, value: v16 } };
    case 2:
      if (at + 4 <= out.length) out.writeUInt32LE(v32, at);
      return { out, m: { kind: 'length32', at, value: v32 } };
    case 3:
      return { out: out.subarray(0, at), m: { kind: 'cut', at } };
    case 4:
      return {
        out: Buffer.concat([out.subarray(0, at), bytes, out.subarray(at)]),
        m: { kind: 'insert', at, bytes },
      };
    default:
      return {
        out: Buffer.concat([out.subarray(0, at), out.subarray(at + count)]),
        m: { kind: 'delete', at, count },
      };
  }
}

/** Resolves 'ok' or 'refused'; rejects with what went wrong (another exception, or a hang). */
async function readMutated(bytes: Buffer): Promise<'ok' | 'refused'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
  });
  const read = (async () => {
    const header = await readPart10Header('/nonexistent/fuzzed.dcm', {
      head: { bytes, size: bytes.length },
    });
    extractIndexedAttributes(header);
  })();
  try {
    await Promise.race([read, hang]);
    return 'ok';
  } catch (error) {
    if (isLightboxError(error)) return 'refused';
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

if (await requireService(test, 'pydicom test data', pydicomManifest)) {
  const files = (await pydicomManifest()).filter((f) => f.size <= MAX_FILE);
  const corpus = await Promise.all(
    files.map(async (f) => ({ name: f.name, bytes: await readFile(f.path) })),
  );

  test('mutated pydicom files: a header or a LightboxError, never another exception or a hang', async (t) => {
    const budget = fuzzBudget(15);
    t.timeout(budget.timeoutMs);
    const outcomes = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.nat(corpus.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (index, mutations) => {
          let bytes: Buffer = corpus[index].bytes;
          for (const m of mutations) bytes = apply(bytes, m).out;
          outcomes[await readMutated(bytes)]++;
        },
      ),
      budget,
    );
    t.log(
      `${corpus.length} files; ${outcomes.ok} mutants read, ${outcomes.refused} refused with a LightboxError`,
    );
    t.true(outcomes.refused > 0 && outcomes.ok > 0, 'the mutations reach both outcomes');
  });
}
