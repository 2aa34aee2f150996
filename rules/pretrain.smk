# Stage: pretrain (see docs/architecture.md)
