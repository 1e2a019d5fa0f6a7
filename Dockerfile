# Build stage: compile and package the shaded jar.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# Run stage: a JRE, the jar, the sample configuration, and an unprivileged user.
FROM eclipse-temurin:17-jre
RUN useradd --system --create-home --home-dir /var/lib/flopex --uid 10001 flopex
WORKDIR /opt/flopex
COPY --from=build /src/target/flopex.jar ./flopex.jar
COPY conf ./conf
ENV FLOPEX_DATA_DIR=/var/lib/flopex/data
USER flopex
EXPOSE 8080
VOLUME ["/var/lib/flopex/data"]
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/flopex/flopex.jar"]
