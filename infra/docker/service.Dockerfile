# One image recipe for every Python part; SERVICE selects which (registry | applications | verification | gateway | portal).
# Build from the repository root:  docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=registry .
FROM python:3.11-slim
ARG SERVICE
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE=${SERVICE}
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY libs/kit libs/kit
COPY libs/contracts libs/contracts
COPY services services
COPY gateway gateway
COPY portal portal
RUN pip install --no-cache-dir --no-deps -e libs/kit -e libs/contracts -e services/registry -e services/applications \
      -e services/verification -e gateway -e portal \
 && useradd --create-home --uid 10001 cleanprod && mkdir -p /data && chown cleanprod /data
USER cleanprod
COPY infra/docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/bin/sh", "/entrypoint.sh"]
