# The release binary on a slim Debian, run as an unprivileged user.
# Build: docker build -t auth-service .   Run: docker run -p 8000:8000 -v auth-data:/var/lib/auth auth-service
FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
# The same command CI runs, so a build that works in CI works here.
RUN cargo build --release --locked -p auth-service

FROM debian:12.8-slim
# ca-certificates: the system roots for DATABASE_URL sslmode=verify-full without sslrootcert.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/auth --create-home auth
COPY --from=build /src/target/release/auth-service /usr/local/bin/auth-service
USER 10001
WORKDIR /var/lib/auth
# The SQLite default (and its generated keys) live here: mount a volume to keep them.
VOLUME ["/var/lib/auth"]
# Two glibc malloc arenas instead of up to eight per core: the peak RSS of the benchmark
# (bench/RESULTS.md) drops by about 10 MiB, and the request paths share two arenas well.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    MALLOC_ARENA_MAX=2 \
    DATABASE_URL=sqlite:///var/lib/auth/auth.db \
    METRICS_HOST=0.0.0.0 \
    METRICS_PORT=9100
EXPOSE 8000 9100
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["auth-service", "healthcheck"]
CMD ["auth-service", "serve"]
