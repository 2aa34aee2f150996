# Stage: tagging (see docs/architecture.md)
