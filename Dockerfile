# The service image: the same bootstrap script as the README, runtime dependencies
# only (the service needs no torch). Build: docker build -t feedback-miner .
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml requirements.lock requirements-dev.lock README.md ./
COPY scripts ./scripts
COPY nlp ./nlp
COPY service ./service
COPY training ./training

RUN scripts/bootstrap

ENV FEEDBACK_MINER_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
CMD [".venv/bin/feedback-miner", "serve", "--host", "0.0.0.0", "--port", "8000"]
