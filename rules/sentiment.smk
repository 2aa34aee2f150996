# Stage: sentiment (see docs/architecture.md)
