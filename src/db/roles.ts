/**
 * Database roles. Migrations run as the owner; the service connects as (a member of) APP_ROLE, which
 * row-level security always applies to. AUTH_ROLE owns the few SECURITY DEFINER functions that must look
 * across workspaces before a workspace is known (log in by email, API key and refresh token lookup):
 * the narrow, named path around RLS that DESIGN.md describes. Nobody logs in as AUTH_ROLE.
 */
export const APP_ROLE = 'trellis_app';
export const AUTH_ROLE = 'trellis_auth';
/** Owns the SECURITY DEFINER functions through which background workers find work across workspaces. */
export const WORKER_ROLE = 'trellis_worker';
/** Owns the search function, which reads the searchable tables with their indexes (see its migration). */
export const SEARCH_ROLE = 'trellis_search';
/**
 * What the background workers (webhook dispatch and delivery, automation, the event bus, rollup
 * compaction, import resumption) and the password check connect as (WORKER_DATABASE_URL; generated
 * in embedded mode): the application role's rights, plus EXECUTE on the worker_* functions, which
 * read across workspaces, and on auth_login_password_hashes. The request pool's role is not a member,
 * so it can neither call them nor SET ROLE to it: an injection in a request path reads no other tenant.
 */
export const BACKGROUND_ROLE = 'trellis_background';
