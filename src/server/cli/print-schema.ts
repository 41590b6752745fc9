// npm run schema:print — writes schema/schema.graphql from the Pothos builder.
import { writeFileSync } from 'node:fs';
import { printedSchema, SCHEMA_FILE } from '../graphql/print.ts';

writeFileSync(SCHEMA_FILE, printedSchema());
console.log(`wrote ${SCHEMA_FILE}`);
