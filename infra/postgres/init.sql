-- One database per service, each with the extensions its search needs (docker-compose init script).
CREATE DATABASE cleanprod_registry ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE cleanprod_applications ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE cleanprod_verification ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE cleanprod_portal ENCODING 'UTF8' TEMPLATE template0;  -- portal sessions only
\c cleanprod_registry
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
\c cleanprod_applications
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
\c cleanprod_verification
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
