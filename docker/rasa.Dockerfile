# syntax=docker/dockerfile:1.10.0
# The Rasa server image, carrying the model trained at build time.
# Build context: the repository root (`docker build -f docker/rasa.Dockerfile .`).
#
# rasa/rasa:3.6.21 runs Python 3.10 from /opt/venv, as user 1001, in WORKDIR /app (HOME=/app,
# writable by that user), with ENTRYPOINT ["rasa"]. Its psycopg2 and redis packages are what
# the SQL tracker store and the Redis lock store of endpoints.prod.yml use.

# Stage 1: pick the training inputs out of data/. data/services and data/lessons are content
# for the action server, not training data; BuildKit keys the COPY --from below on the files
# it copies, so editing a guide or a lesson does not retrain the model.
FROM rasa/rasa:3.6.21 AS training-data
USER root
WORKDIR /src
COPY data ./data
RUN mkdir -p /out/data \
 && for path in data/domain.yml data/nlu data/rules data/stories; do \
        if [ -e "$path" ]; then cp -R "$path" /out/data/; fi; \
    done

# Stage 2: the image.
FROM rasa/rasa:3.6.21

# PYTHONPATH: Rasa imports the custom components (`nlu.*`, named in config.yml) from here.
ENV RASA_TELEMETRY_ENABLED=false \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
USER 1001

COPY config.yml endpoints.prod.yml credentials.yml ./
COPY nlu ./nlu
COPY --from=training-data /out/data ./data

# Train now, so the image carries its model (models/current.tar.gz), then drop the training
# cache. Only training-data folders that exist are passed: for a missing --data or --domain
# path, `rasa train` silently falls back to its defaults (all of data/, ./domain.yml).
RUN test -f data/domain.yml \
 && training_data="" \
 && for dir in data/nlu data/rules data/stories; do \
        if [ -d "$dir" ]; then training_data="$training_data $dir"; fi; \
    done \
 && rasa train --config config.yml --domain data/domain.yml --data $training_data \
        --out models --fixed-model-name current \
 && rm -rf /app/.rasa/cache \
 && test -f models/current.tar.gz

EXPOSE 5005

# `rasa run` takes its auth token only as an argument, and an exec-form CMD expands no
# variables, so this small wrapper adds `--auth-token "$RASA_TOKEN"` (refusing to start
# without it) when the command is `run`. Any other command goes to `rasa` unchanged, as with
# the base image: e.g. `docker run --rm IMAGE data validate`.
ENTRYPOINT ["/bin/bash", "-c", "if [ \"${1:-}\" = run ]; then shift; set -- run --auth-token \"${RASA_TOKEN:?RASA_TOKEN must be set}\" \"$@\"; fi; exec rasa \"$@\"", "rasa"]
# credentials.yml: the gateway's turn channel (nlu/channel.py), which needs RASA_TOKEN too.
CMD ["run", "--enable-api", "--endpoints", "endpoints.prod.yml", "--credentials", "credentials.yml", "--model", "models", "--port", "5005", "-i", "0.0.0.0"]
