-- One database per service, each owned by a role of the same name, for infra/docker-compose.yml.
-- The official postgres image runs this once, when it initialises an empty data volume
-- (`docker compose -f infra/docker-compose.yml down -v` to start over).
--
-- DEVELOPMENT CREDENTIALS ONLY. The passwords below are public; they must match the <PREFIX>_DATABASE_URL
-- values in infra/docker-compose.yml. Production databases and credentials are provisioned separately.
--
-- Each role owns its database (and so, on PostgreSQL 15, its public schema, where the service's Alembic
-- migrations create their tables). CONNECT is revoked from PUBLIC, so a service cannot open another
-- service's database: the database-per-service boundary holds in the database, not only by convention.

CREATE ROLE registry LOGIN PASSWORD 'registry-dev';
CREATE DATABASE registry OWNER registry;
REVOKE CONNECT ON DATABASE registry FROM PUBLIC;

CREATE ROLE identity LOGIN PASSWORD 'identity-dev';
CREATE DATABASE identity OWNER identity;
REVOKE CONNECT ON DATABASE identity FROM PUBLIC;

CREATE ROLE referral LOGIN PASSWORD 'referral-dev';
CREATE DATABASE referral OWNER referral;
REVOKE CONNECT ON DATABASE referral FROM PUBLIC;

CREATE ROLE reporting LOGIN PASSWORD 'reporting-dev';
CREATE DATABASE reporting OWNER reporting;
REVOKE CONNECT ON DATABASE reporting FROM PUBLIC;
