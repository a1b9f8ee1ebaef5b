import type { EngineContact } from '../engine/engine.js';
import { builder } from './builder.js';

export const ContactRef = builder.objectRef<EngineContact>('Contact').implement({
  description: 'A WhatsApp account as this session knows it',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Like 15550001234@c.us' }),
    name: t.exposeString('name', { nullable: true, description: 'The name saved in the address book' }),
    pushname: t.exposeString('pushname', { nullable: true, description: 'The name the account chose for itself' }),
    isMyContact: t.exposeBoolean('isMyContact'),
    isWAContact: t.exposeBoolean('isWAContact'),
  }),
});
