# syntax=docker/dockerfile:1
# The sluice worker (and the sluice CLI, for `docker compose exec worker sluice ...`).
#   docker build -t sluice-worker .
#   docker run --rm -e SRC_PASSWORD -e DST_PASSWORD sluice-worker --address temporal.example:7233

# go.mod needs Go 1.26.8 or later: a golang:1.26 image older than that refuses to build.
ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Pure-Go build (the SQLite store of --dev is pure Go too): the binary runs on a static base image.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=docker
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sluice-worker ./worker && \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/sluice ./starter

# Static, shell-less, non-root: holds nothing but the binaries, CA certificates and tzdata.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sluice-worker /out/sluice /usr/local/bin/
WORKDIR /home/nonroot
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/sluice-worker"]
