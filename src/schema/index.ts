// Imports every type and field group, then builds the schema. Nothing else belongs here.
import './scalars.js';
import './contact.js';
import './session.js';
import './events.js';
import './server.js';
import './message.js';
import './message-action.js';
import './chat.js';
import './group.js';
import './webhook.js';
import '../resolvers/sessions.js';
import '../resolvers/server.js';
import '../resolvers/events.js';
import '../resolvers/messaging.js';
import '../resolvers/message-actions.js';
import '../resolvers/chats.js';
import '../resolvers/groups.js';
import '../resolvers/contacts.js';
import '../resolvers/webhooks.js';
import './api-key.js';
import '../resolvers/api-keys.js';
import './cluster.js';
import '../resolvers/cluster.js';
import { builder } from './builder.js';

export const schema = builder.toSchema({ sortSchema: true });
