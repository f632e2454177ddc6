# llama.cpp's llama-server for deploy/compose.yaml, built from the llama.cpp
# source inside the llama-cpp-python source package (an ordinary package,
# checked against its pinned sha256), as scripts/build-llama-server.sh does.
FROM debian:bookworm-slim AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake python3 python3-pip ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/build-llama-server.sh ./
RUN SIGNPOST_LLAMA_SERVER_DIR=/out ./build-llama-server.sh

FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10002 llama
COPY --from=build /out/llama-server /usr/local/bin/llama-server
USER 10002
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/llama-server", "--version"]
ENTRYPOINT ["/usr/local/bin/llama-server"]
