# Stage: mining (see docs/architecture.md)
