# Stage: nmt (see docs/architecture.md)
