// The API suite on the embedded database the server uses by default.
import { apiSuite } from './suite.ts';

apiSuite('pglite');
