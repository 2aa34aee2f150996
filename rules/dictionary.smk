# Stage: dictionary (see docs/architecture.md)
