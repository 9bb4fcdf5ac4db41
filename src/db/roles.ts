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
