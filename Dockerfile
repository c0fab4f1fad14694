# Build the release binary, then run it as an unprivileged user on a slim image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p auth-service

FROM debian:bookworm-slim
RUN useradd --system --home-dir /var/lib/auth --create-home auth
COPY --from=build /src/target/release/auth-service /usr/local/bin/auth-service
USER auth
WORKDIR /var/lib/auth
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["auth-service"]
