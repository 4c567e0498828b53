# Tessera signer: a release build of the `signer` binary on a minimal Debian runtime, user 10001.
# Build from the repository root:  docker build -f infra/docker/signer.Dockerfile -t tessera-signer .
# Reproducible from Cargo.lock (--locked); dependencies are fetched once, then built offline.
# Base images are pinned to full version tags (add @sha256 digests with your registry's tooling).

ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=debian:12.11-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY signer/ signer/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    cargo fetch --locked
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --offline --bin signer \
    && install -m 0755 target/release/signer /usr/local/bin/signer

FROM ${RUNTIME_IMAGE} AS runtime
# /run/signer and /var/lib/signer are mount points; a fresh named volume copies their owner (compose).
RUN groupadd --system --gid 10001 signer \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin signer \
    && install -d -o 10001 -g 10001 -m 0750 /run/signer /var/lib/signer /var/lib/signer/keystore
COPY --from=build /usr/local/bin/signer /usr/local/bin/signer
USER 10001:10001
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/signer"]
CMD ["--help"]
