# One recipe, one slim image per Python part; SERVICE selects which (registry | applications | verification |
# gateway | portal). Build from the repository root:
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=registry -t cleanprod/registry .
# The build stage installs only the part, the cleanprod packages it needs and their declared runtime dependencies
# (each pyproject.toml), at the versions pinned in requirements.txt; no test or dev tool reaches the image
# (tests/test_images.py checks the declarations against the imports). The runtime stage copies that venv alone.

FROM python:3.11-slim AS build
ARG SERVICE
WORKDIR /src
COPY requirements.txt ./
COPY libs/kit libs/kit
COPY libs/contracts libs/contracts
COPY services services
COPY gateway gateway
COPY portal portal
# Constraints cannot carry extras: the pins without them.
RUN set -e; \
    case "$SERVICE" in \
      registry|applications|verification) PARTS="./libs/kit ./libs/contracts ./services/$SERVICE" ;; \
      gateway|portal) PARTS="./libs/kit ./$SERVICE" ;; \
      *) echo "unknown SERVICE '$SERVICE'" >&2; exit 2 ;; \
    esac; \
    sed -E 's/\[[^]]*\]//' requirements.txt > /tmp/constraints.txt; \
    python -m venv /opt/venv; \
    /opt/venv/bin/pip install --no-cache-dir --upgrade pip; \
    /opt/venv/bin/pip install --no-cache-dir -c /tmp/constraints.txt $PARTS; \
    /opt/venv/bin/pip uninstall -y pip

FROM python:3.11-slim
ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE=${SERVICE} PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 cleanprod && mkdir -p /data && chown cleanprod /data
COPY --from=build /opt/venv /opt/venv
COPY infra/docker/entrypoint.sh /entrypoint.sh
USER 10001
EXPOSE 8000
ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]
