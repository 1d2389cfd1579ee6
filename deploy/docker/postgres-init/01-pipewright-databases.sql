-- Run once by the postgres image when it initialises an empty data directory
-- (docker-compose.yml mounts this folder at /docker-entrypoint-initdb.d).
-- One database per service (ARCHITECTURE.md section 1). The services also create their database
-- at boot when it is missing (DATABASE_CREATE, default true), so a volume initialised before
-- this script existed still works.
CREATE DATABASE pipewright_environments;
CREATE DATABASE pipewright_pipelines;
CREATE DATABASE pipewright_executions;
CREATE DATABASE pipewright_builds;
CREATE DATABASE pipewright_projects;
CREATE DATABASE pipewright_triggers;
