# syntax=docker/dockerfile:1
# voicecap-operator image: `make image` (Docker, Podman or Buildah). Two stages: the first builds
# a virtual environment from the locked dependencies (requirements.lock), the second copies only
# that environment onto a slim Python with no compilers, pip caches or build tools, and runs it
# as an unprivileged user. PYTHON_IMAGE is any Debian bookworm with python3 and python3-venv: the
# official slim image, or (no registry reachable) one bootstrapped with mmdebstrap
# (tests/image/build.sh).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/voicecap
WORKDIR /src
# The locked dependencies first, so code changes do not reinstall them.
COPY requirements.lock ./
RUN /opt/voicecap/bin/pip install --only-binary=:all: --upgrade pip \
 && /opt/voicecap/bin/pip install --only-binary=:all: --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY operator ./operator
RUN /opt/voicecap/bin/pip install --no-deps . \
 && /opt/voicecap/bin/pip check \
 && /opt/voicecap/bin/python -m compileall -q /opt/voicecap/lib \
 && /opt/voicecap/bin/pip uninstall --yes pip setuptools wheel

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="voicecap-operator" \
      org.opencontainers.image.description="Keeps voice-AI agent fleets ahead of their concurrent-call peaks" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/voicecap/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/voicecap /opt/voicecap
# 65532: the conventional "nonroot" uid of distroless images; the chart runs as the same uid.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/opt/voicecap/bin/voicecap"]
CMD ["run", "--all-namespaces"]
