// Imports every domain type (each registers itself on the builder) and builds the schema.
import { builder } from './builder.ts';
import './types/common.ts';
import './types/program.ts';
import './types/preview.ts';
import './types/ledger.ts';
import './types/member.ts';
import './types/order.ts';
import './types/club.ts';
import './types/merchant.ts';
import './types/access.ts';
import './types/corrections.ts';
import './types/audit.ts';
import './types/events.ts';
import './types/webhooks.ts';

export const schema = builder.toSchema({ sortSchema: true });
