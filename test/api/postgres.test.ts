// The API suite on a real PostgreSQL 15 that the harness starts and stops.
import { apiSuite } from './suite.ts';

apiSuite('postgres');
