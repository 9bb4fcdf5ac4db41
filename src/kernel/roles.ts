// Who may act, and as what: plain enums every layer shares. Each is registered as a GraphQL enum
// (registerEnumType) by the module whose types expose it.

/** A user's role in the workspace. */
export enum Role {
  ADMIN = 'ADMIN',
  MANAGER = 'MANAGER',
  REP = 'REP',
  READ_ONLY = 'READ_ONLY',
}

/** What an API key may do. */
export enum ApiScope {
  READ = 'READ',
  WRITE = 'WRITE',
}

/** Who caused an event. */
export enum ActorType {
  USER = 'USER',
  API_KEY = 'API_KEY',
  SYSTEM = 'SYSTEM',
  AUTOMATION = 'AUTOMATION',
}
