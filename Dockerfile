# Flopex gateway image.
#   docker build -t flopex .
#   docker run -p 8080:8080 -e FLOPEX_ADMIN_TOKEN=... -e GROQ_API_KEY=... flopex
# Without FLOPEX_DATABASE_URL the node runs its embedded PostgreSQL in /var/lib/flopex/data.

# Build stage: resolve dependencies first (cached while pom.xml is unchanged), then package.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# Run stage: a JRE, the jar, the sample configuration, and an unprivileged user. The embedded
# PostgreSQL refuses to run as root, and nothing else needs it.
FROM eclipse-temurin:17-jre
RUN useradd --system --create-home --home-dir /var/lib/flopex --uid 10001 flopex
WORKDIR /opt/flopex
COPY --from=build /src/target/flopex.jar ./flopex.jar
COPY conf/flopex.yaml ./conf/flopex.yaml
ENV FLOPEX_DATA_DIR=/var/lib/flopex/data \
    FLOPEX_PORT=8080 \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
USER 10001
EXPOSE 8080
VOLUME ["/var/lib/flopex/data"]
# Ready means the database answers and the node serves; bash's /dev/tcp needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${FLOPEX_PORT} && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# SIGTERM (docker stop) drains: give it server.drainDelayMs + server.shutdownGraceMs + a margin,
# e.g. docker stop --time 30, or stop_grace_period: 30s in compose.
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "-jar", "/opt/flopex/flopex.jar"]
