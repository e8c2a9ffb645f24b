// Generates schemas/run.schema.json from the run file's TypeScript types (contract/protocol.ts,
// `RunFile`): the types are the one source, the schema follows them. Run by `npm run schemas` after a
// change to those types;
// test/unit/schemas.test.ts fails when the committed schema is not what this generates.
//   node scripts/schemas.mjs          write the schema
//   node scripts/schemas.mjs --print  print it instead
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const root = fileURLToPath(new URL('..', import.meta.url));
export const RUN_SCHEMA_FILE = `${root}schemas/run.schema.json`;

/** The run file's schema, as JSON text (2-space indent, final newline). */
export function runSchemaText() {
  const generated = createGenerator({
    path: `${root}contract/protocol.ts`,
    tsconfig: `${root}tsconfig.json`,
    type: 'RunFile',
    skipTypeCheck: true,
    additionalProperties: false,
    expose: 'export',
    topRef: true,
  }).createSchema('RunFile');
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://jetbench.dev/schemas/run.schema.json',
    title: 'jetbench run file',
    description:
      'One benchmark run: what was measured, where, with what, the raw samples and their statistics. Written by jetbench to .jetbench/runs/<id>.json. Latencies are in milliseconds (keys ending in Ms). Generated from contract/protocol.ts (RunFile) by scripts/schemas.mjs: do not edit.',
    $ref: generated.$ref,
    // The one rule the types cannot say: a failed run says why.
    type: 'object',
    if: { type: 'object', properties: { status: { const: 'failed' } } },
    then: { type: 'object', required: ['error'], properties: { error: { type: 'string', minLength: 1 } } },
    definitions: generated.definitions,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = runSchemaText();
  if (process.argv.includes('--print')) process.stdout.write(text);
  else writeFileSync(RUN_SCHEMA_FILE, text);
}
