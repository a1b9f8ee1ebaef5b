import { ECHO_BOT, EXAMPLE_ME, EXAMPLE_SESSION, EXAMPLE_UNIX, foundSession, type JsonSchema, pick, restError, type RestRoute, sessionIdOf } from '../route.js';

// Group administration, numbers, contacts' profiles and blocks, the own profile, pairing codes: each route
// one row, its GraphQL document, and an example that runs against the sandbox (test/rest-examples.test.ts).

const params = { sessionId: EXAMPLE_SESSION };
const EXAMPLE_GROUP = `${EXAMPLE_ME.split('@')[0]}-${EXAMPLE_UNIX}@g.us`;
const JOHN = '1234567890@c.us';
const groupParams = { ...params, groupId: EXAMPLE_GROUP };
const EXAMPLE_LINK = 'https://chat.whatsapp.com/Q2xhdWRlIHdhcyBoZXJl';
/** A 1x1 PNG, the smallest picture the examples can set. */
const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const GROUP_FIELDS = 'id subject description owner createdAt announce restrict participants { id isAdmin isSuperAdmin }';
const CONTACT_FIELDS = 'id name pushname isMyContact isWAContact isBlocked about';

const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const bool = { type: 'boolean' };
const object = (properties: Record<string, unknown>, required = Object.keys(properties)): JsonSchema => ({ type: 'object', required, properties });

const groupSchema = object({
  id: str,
  subject: str,
  description: nullableStr,
  owner: nullableStr,
  createdAt: { type: ['string', 'null'], format: 'date-time' },
  announce: { ...bool, description: 'Only admins send' },
  restrict: { ...bool, description: 'Only admins edit the group info' },
  participants: { type: 'array', items: object({ id: str, isAdmin: bool, isSuperAdmin: bool }) },
});
const participantResults = { type: 'array', items: object({ id: str, status: { type: 'integer', description: '200, 400 malformed, 403, 404, 409' } }) };
const linkSchema = object({ groupId: str, link: { type: 'string', description: 'https://chat.whatsapp.com/<code>' } });
const contactSchema = object({ id: str, name: nullableStr, pushname: nullableStr, isMyContact: bool, isWAContact: bool, isBlocked: bool, about: nullableStr });

const exampleGroup = (changes: Record<string, unknown> = {}) => ({
  id: EXAMPLE_GROUP,
  subject: 'My Group',
  description: 'Optional group description',
  owner: EXAMPLE_ME,
  createdAt: '2026-01-15T09:30:00.000Z',
  announce: false,
  restrict: false,
  participants: [
    { id: EXAMPLE_ME, isAdmin: true, isSuperAdmin: true },
    { id: JOHN, isAdmin: false, isSuperAdmin: false },
  ],
  ...changes,
});
const exampleContact = { id: ECHO_BOT, name: 'Echo Bot', pushname: 'Echo Bot', isMyContact: true, isWAContact: true, isBlocked: true, about: 'I answer every message with its own text' };
const exampleMe = { id: EXAMPLE_ME, name: null, pushname: 'Demo Bot', isMyContact: false, isWAContact: true, isBlocked: false, about: 'Answering within the hour' };

/** A group step answering the group (subject, description, settings). */
const groupStep = (id: string, field: 'subject' | 'description' | 'settings', summary: string, body: Record<string, unknown>, bodySchema: JsonSchema, input: string): RestRoute => ({
  id,
  method: 'POST',
  path: `/sessions/{sessionId}/groups/{groupId}/${field}`,
  tag: 'Groups',
  summary,
  document: `mutation Rest${id[0]!.toUpperCase()}${id.slice(1)}($input: ${input}!) { ${id}(input: $input) { group { ${GROUP_FIELDS} } } }`,
  variables: (req) => ({ input: { sessionId: sessionIdOf(req), groupId: req.params.groupId, ...pick(req.body, Object.keys(bodySchema.properties as object)) } }),
  reply: (data) => ({ data: data[id].group }),
  body: bodySchema,
  response: { data: groupSchema },
  example: { params: groupParams, body, data: exampleGroup(body) },
});

const adminRoute = (kind: 'promote' | 'demote'): RestRoute => ({
  id: `${kind}Participants`,
  method: kind === 'promote' ? 'POST' : 'DELETE',
  path: '/sessions/{sessionId}/groups/{groupId}/admins',
  tag: 'Groups',
  summary: kind === 'promote' ? 'Make participants admins (each gets a status)' : 'Take participants’ admin rights (DELETE with a JSON body; each gets a status)',
  document: `mutation Rest${kind === 'promote' ? 'Promote' : 'Demote'}($input: GroupParticipantsInput!) { ${kind}Participants(input: $input) { groupId participants { id status } } }`,
  variables: (req) => ({ input: { sessionId: sessionIdOf(req), groupId: req.params.groupId, ...pick(req.body, ['participants']) } }),
  reply: (data) => ({ data: data[`${kind}Participants`] }),
  body: object({ participants: { type: 'array', items: str } }),
  response: { data: object({ groupId: str, participants: participantResults }) },
  example: { params: groupParams, body: { participants: [JOHN] }, data: { groupId: EXAMPLE_GROUP, participants: [{ id: JOHN, status: 200 }] } },
});

const linkRoute = (revoke: boolean): RestRoute => ({
  id: revoke ? 'revokeGroupInviteLink' : 'groupInviteLink',
  method: revoke ? 'DELETE' : 'GET',
  path: '/sessions/{sessionId}/groups/{groupId}/invite-link',
  tag: 'Groups',
  summary: revoke ? 'Revoke the invite link; answers the new one' : "The group's invite link (admins only)",
  document: `mutation Rest${revoke ? 'Revoke' : 'Get'}InviteLink($sessionId: String!, $groupId: String!) {
    ${revoke ? 'revokeGroupInviteLink' : 'groupInviteLink'}(sessionId: $sessionId, groupId: $groupId) { groupId link } }`,
  variables: (req) => ({ sessionId: sessionIdOf(req), groupId: req.params.groupId }),
  reply: (data) => ({ data: data[revoke ? 'revokeGroupInviteLink' : 'groupInviteLink'] }),
  response: { data: linkSchema },
  example: { params: groupParams, data: { groupId: EXAMPLE_GROUP, link: EXAMPLE_LINK } },
});

const blockRoute = (block: boolean): RestRoute => ({
  id: block ? 'blockContact' : 'unblockContact',
  method: 'POST',
  path: `/sessions/{sessionId}/contacts/{contactId}/${block ? 'block' : 'unblock'}`,
  tag: 'Contacts',
  summary: block ? 'Block a contact: its messages and calls stop arriving, and writing to it is refused (CONTACT_BLOCKED)' : 'Unblock a contact',
  document: `mutation Rest${block ? 'Block' : 'Unblock'}($sessionId: String!, $contactId: String!) {
    ${block ? 'blockContact' : 'unblockContact'}(sessionId: $sessionId, contactId: $contactId) { ${CONTACT_FIELDS} } }`,
  variables: (req) => ({ sessionId: sessionIdOf(req), contactId: req.params.contactId }),
  reply: (data) => ({ data: data[block ? 'blockContact' : 'unblockContact'] }),
  response: { data: contactSchema },
  example: { params: { ...params, contactId: ECHO_BOT }, data: { ...exampleContact, isBlocked: block } },
});

const profileRoute = (field: 'name' | 'about' | 'picture'): RestRoute => {
  const mutation = field === 'name' ? 'setProfileName' : field === 'about' ? 'setProfileAbout' : 'setProfilePicture';
  const arg = field === 'picture' ? 'data' : field;
  const value = field === 'name' ? 'Demo Bot' : field === 'about' ? 'Answering within the hour' : PIXEL;
  return {
    id: mutation,
    method: 'POST',
    path: `/sessions/{sessionId}/profile/${field}`,
    tag: 'Contacts',
    summary: field === 'name' ? 'Set the own name (pushname)' : field === 'about' ? 'Set the own about text' : 'Set the own profile picture (a data URL)',
    document: `mutation Rest${mutation[0]!.toUpperCase()}${mutation.slice(1)}($sessionId: String!, $value: String!) { ${mutation}(sessionId: $sessionId, ${arg}: $value) { ${CONTACT_FIELDS} } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), value: req.body[arg] }),
    reply: (data) => ({ data: data[mutation] }),
    body: object({ [arg]: field === 'picture' ? { type: 'string', description: 'data:image/jpeg;base64,... or image/png' } : str }),
    response: { data: contactSchema },
    example: { params, body: { [arg]: value }, data: field === 'name' ? { ...exampleMe, about: null } : exampleMe },
  };
};

export const groupRoutes: RestRoute[] = [
  {
    id: 'checkNumber',
    method: 'GET',
    path: '/sessions/{sessionId}/check-number/{number}',
    tag: 'Contacts',
    summary: 'Whether a number is on WhatsApp',
    document: 'query RestCheckNumber($sessionId: String!, $number: String!) { checkNumber(sessionId: $sessionId, number: $number) { number exists id } }',
    variables: (req) => ({ sessionId: sessionIdOf(req), number: req.params.number }),
    reply: (data) => ({ data: data.checkNumber }),
    response: { data: object({ number: str, exists: bool, id: nullableStr }) },
    example: { params: { ...params, number: ECHO_BOT.split('@')[0]! }, data: { number: ECHO_BOT.split('@')[0], exists: true, id: ECHO_BOT } },
  },
  {
    id: 'requestPairingCode',
    method: 'POST',
    path: '/sessions/{sessionId}/pairing-code',
    tag: 'Sessions',
    summary: 'A pairing code to log in without the QR (session waiting for its login)',
    description: 'The phone of `phoneNumber` enters it (Linked devices > Link with phone number instead). Sandbox: sandboxEnterPairingCode does what the phone does. open-wa takes the number as its start option instead: the session config `linkCode`.',
    document: 'mutation RestPairingCode($sessionId: String!, $phoneNumber: String!) { requestPairingCode(sessionId: $sessionId, phoneNumber: $phoneNumber) { code } }',
    variables: (req) => ({ sessionId: sessionIdOf(req), phoneNumber: req.body.phoneNumber }),
    reply: (data) => ({ data: data.requestPairingCode }),
    body: object({ phoneNumber: { type: 'string', description: 'International format, country code first' } }),
    response: { data: object({ code: { type: 'string', description: '8 characters shown like ABCD-EFGH' } }) },
    example: { params, body: { phoneNumber: EXAMPLE_ME.split('@')[0] }, data: { code: 'K7MQ-2XPD' } },
  },
  {
    id: 'getGroup',
    method: 'GET',
    path: '/sessions/{sessionId}/groups/{groupId}',
    tag: 'Groups',
    summary: "A group's subject, description, settings and participants",
    document: `query RestGroup($sessionId: String!, $groupId: String!) { session(sessionId: $sessionId) { chat(chatId: $groupId) { group { ${GROUP_FIELDS} } } } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), groupId: req.params.groupId }),
    reply: (data, req) => {
      const group = foundSession(data.session, req).chat?.group;
      if (!group) throw restError('NOT_FOUND', `Session '${sessionIdOf(req)}' is in no group '${req.params.groupId}'`, { groupId: req.params.groupId });
      return { data: group };
    },
    response: { data: groupSchema },
    example: { params: groupParams, data: exampleGroup() },
  },
  adminRoute('promote'),
  adminRoute('demote'),
  groupStep('setGroupSubject', 'subject', 'Rename the group', { subject: 'Team (renamed)' }, object({ subject: str }), 'SetGroupSubjectInput'),
  groupStep('setGroupDescription', 'description', "Set the group's description", { description: 'Planning and releases' }, object({ description: str }), 'SetGroupDescriptionInput'),
  groupStep(
    'setGroupSettings',
    'settings',
    'Who sends (announce) and who edits the info (restrict); admins only',
    { announce: true, restrict: false },
    object({ announce: bool, restrict: bool }, []),
    'SetGroupSettingsInput',
  ),
  linkRoute(false),
  linkRoute(true),
  {
    id: 'leaveGroup',
    method: 'POST',
    path: '/sessions/{sessionId}/groups/{groupId}/leave',
    tag: 'Groups',
    summary: 'Leave the group',
    document: 'mutation RestLeaveGroup($sessionId: String!, $groupId: String!) { leaveGroup(sessionId: $sessionId, groupId: $groupId) { groupId } }',
    variables: (req) => ({ sessionId: sessionIdOf(req), groupId: req.params.groupId }),
    reply: (data) => ({ data: data.leaveGroup }),
    response: { data: object({ groupId: str }) },
    example: { params: groupParams, data: { groupId: EXAMPLE_GROUP } },
  },
  {
    id: 'joinGroup',
    method: 'POST',
    path: '/sessions/{sessionId}/groups/join',
    tag: 'Groups',
    summary: 'Join a group by its invite link',
    document: `mutation RestJoinGroup($sessionId: String!, $link: String!) { joinGroup(sessionId: $sessionId, link: $link) { groupId group { ${GROUP_FIELDS} } } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), link: req.body.link }),
    reply: (data) => ({ data: data.joinGroup }),
    body: object({ link: { type: 'string', description: 'https://chat.whatsapp.com/<code>' } }),
    response: { data: object({ groupId: str, group: groupSchema }) },
    example: {
      params,
      body: { link: EXAMPLE_LINK },
      data: { groupId: EXAMPLE_GROUP, group: exampleGroup({ participants: [{ id: EXAMPLE_ME, isAdmin: false, isSuperAdmin: true }] }) },
    },
  },
  blockRoute(true),
  blockRoute(false),
  profileRoute('name'),
  profileRoute('about'),
  profileRoute('picture'),
  {
    id: 'getContactPicture',
    method: 'GET',
    path: '/sessions/{sessionId}/contacts/{contactId}/picture',
    tag: 'Contacts',
    summary: "A contact's profile picture (the bytes); NOT_FOUND when it shows none",
    document: 'query RestContactPicture($sessionId: String!, $contactId: String!) { session(sessionId: $sessionId) { contact(contactId: $contactId) { profilePicture { dataUrl } } } }',
    variables: (req) => ({ sessionId: sessionIdOf(req), contactId: req.params.contactId }),
    reply: (data, req) => {
      const dataUrl: string | undefined = foundSession(data.session, req).contact?.profilePicture?.dataUrl;
      if (!dataUrl) throw restError('NOT_FOUND', `${req.params.contactId} shows no profile picture`, { contactId: req.params.contactId });
      const comma = dataUrl.indexOf(',');
      return { binary: Buffer.from(dataUrl.slice(comma + 1), 'base64'), contentType: dataUrl.slice(5, dataUrl.indexOf(';')) };
    },
    response: { contentType: 'image/png' },
    example: { params: { ...params, contactId: EXAMPLE_ME } },
  },
];
