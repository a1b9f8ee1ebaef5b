import type { EngineContact } from '../engine/engine.js';
import { builder } from './builder.js';

/** A contact as a session's fields serve it: with the session, which its profile fields ask. */
export type ContactView = EngineContact & { sessionId?: string };

export const ContactRef = builder.objectRef<ContactView>('Contact').implement({
  description: 'A WhatsApp account as this session knows it',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Like 15550001234@c.us' }),
    name: t.exposeString('name', { nullable: true, description: 'The name saved in the address book' }),
    pushname: t.exposeString('pushname', { nullable: true, description: 'The name the account chose for itself' }),
    isMyContact: t.exposeBoolean('isMyContact'),
    isWAContact: t.exposeBoolean('isWAContact'),
  }),
});

export const ProfilePictureRef = builder.objectRef<{ sessionId: string; contactId: string }>('ProfilePicture').implement({
  fields: (t) => ({
    url: t.string({
      description: 'GET it (with the API key) for the bytes: /api/v1/sessions/{sessionId}/contacts/{contactId}/picture',
      resolve: (p) => `/api/v1/sessions/${encodeURIComponent(p.sessionId)}/contacts/${encodeURIComponent(p.contactId)}/picture`,
    }),
    dataUrl: t.string({
      nullable: true,
      description: 'The picture itself as a data URL',
      resolve: async (p, _args, ctx) => {
        const bytes = await ctx.services.accounts.picture(p.sessionId, p.contactId);
        return bytes ? `data:${bytes.mimetype};base64,${bytes.data.toString('base64')}` : null;
      },
    }),
  }),
});

export const NumberCheckRef = builder.objectRef<{ number: string; exists: boolean; id: string | null }>('NumberCheck').implement({
  fields: (t) => ({
    number: t.exposeString('number', { description: 'The digits asked about' }),
    exists: t.exposeBoolean('exists', { description: 'Whether the number is on WhatsApp' }),
    id: t.exposeString('id', { nullable: true, description: 'Its chat id (15550001234@c.us) when it exists' }),
  }),
});

export const PairingCodeRef = builder.objectRef<{ code: string }>('PairingCode').implement({
  fields: (t) => ({
    code: t.exposeString('code', {
      description: 'Enter it on the phone (Linked devices > Link with phone number instead): 8 characters, shown like ABCD-EFGH',
    }),
  }),
});
