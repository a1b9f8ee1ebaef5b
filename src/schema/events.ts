import { eventTypes, type BusEvent, type BusEventOf, type SessionStatus } from '../events/bus.js';
import { builder } from './builder.js';
import { ContactRef } from './contact.js';
import { QrCodeRef, SessionStatusEnum } from './session.js';

export const EventTypeEnum = builder.enumType('EventType', { values: eventTypes });

export const SessionStatusEventRef = builder
  .objectRef<{ sessionId: string; status: SessionStatus; reason: string | null; at: number }>('SessionStatusEvent')
  .implement({
    fields: (t) => ({
      sessionId: t.exposeString('sessionId'),
      status: t.expose('status', { type: SessionStatusEnum }),
      reason: t.exposeString('reason', { nullable: true, description: 'Why: the failure reason, or the disconnect reason' }),
      at: t.expose('at', { type: 'DateTime' }),
    }),
  });

/** The GraphQL object type of each bus event type; a type missing here is not sent to `events` subscribers. */
export const eventObjectNames: Partial<Record<BusEvent['type'], string>> = {};

export const SessionEventRef = builder.interfaceRef<BusEvent>('SessionEvent').implement({
  description: 'Everything that happens to a session; one object type per EventType',
  fields: (t) => ({
    type: t.expose('type', { type: EventTypeEnum }),
    sessionId: t.exposeString('sessionId'),
    at: t.expose('at', { type: 'DateTime' }),
  }),
  resolveType: (e) => eventObjectNames[e.type] ?? null,
});

/** Declares the object type of one event type; its fields beyond the interface's come from `fields`. */
export function eventObject<T extends BusEvent['type']>(
  type: T,
  name: string,
  fields?: Parameters<ReturnType<typeof builder.objectRef<BusEventOf<T>>>['implement']>[0]['fields'],
) {
  eventObjectNames[type] = name;
  return builder.objectRef<BusEventOf<T>>(name).implement({
    interfaces: [SessionEventRef],
    isTypeOf: (e) => (e as BusEvent).type === type,
    ...(fields ? { fields } : {}),
  });
}

eventObject('QR', 'QrEvent', (t) => ({ qr: t.expose('qr', { type: QrCodeRef }) }));
eventObject('AUTHENTICATED', 'AuthenticatedEvent');
eventObject('READY', 'ReadyEvent', (t) => ({ me: t.expose('me', { type: ContactRef }) }));
eventObject('DISCONNECTED', 'DisconnectedEvent', (t) => ({ reason: t.exposeString('reason') }));
eventObject('STATUS', 'StatusEvent', (t) => ({
  status: t.expose('status', { type: SessionStatusEnum }),
  reason: t.exposeString('reason', { nullable: true }),
}));
