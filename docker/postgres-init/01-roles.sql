-- The roles Trellis needs beside the migration owner. The postgres image runs this once, when it
-- initialises an empty data volume, as POSTGRES_USER (the owner, a superuser) in POSTGRES_DB.
--
-- Trellis serves requests as `trellis`: a login role that is a member of trellis_app and neither a
-- superuser nor BYPASSRLS, so row-level security applies to every statement it runs. The migrations
-- grant trellis_app its privileges; they create it when it is missing, so creating it here first
-- (without login) only lets `trellis` join it now.

-- psql (16) reads the password from the container's environment: it never sits in a file.
\getenv app_password TRELLIS_APP_PASSWORD
\getenv worker_password TRELLIS_WORKER_PASSWORD

CREATE ROLE trellis_app NOLOGIN;
CREATE ROLE trellis LOGIN PASSWORD :'app_password' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE trellis_app;

-- The background workers and the password check connect as `trellis_workers`, a member of
-- trellis_background: the only role that may call the functions reading across workspaces (the
-- migrations grant it trellis_app's rights and those functions). `trellis` must never be a member.
CREATE ROLE trellis_background NOLOGIN;
CREATE ROLE trellis_workers LOGIN PASSWORD :'worker_password' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE trellis_background;
