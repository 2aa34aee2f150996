# Stage: curation (see docs/architecture.md)
