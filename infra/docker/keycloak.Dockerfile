# Keycloak for the Kubernetes manifests (infra/k8s/base/keycloak.yaml: `startOptimized: true`): the official image
# with the cleanprod login theme and the build-time options baked in (PostgreSQL, health endpoints).
#   docker build -f infra/docker/keycloak.Dockerfile -t cleanprod/keycloak:26.5.6 .
FROM quay.io/keycloak/keycloak:26.5.6 AS build
ENV KC_DB=postgres KC_HEALTH_ENABLED=true
COPY infra/keycloak/themes /opt/keycloak/themes
RUN /opt/keycloak/bin/kc.sh build

FROM quay.io/keycloak/keycloak:26.5.6
COPY --from=build /opt/keycloak/ /opt/keycloak/
