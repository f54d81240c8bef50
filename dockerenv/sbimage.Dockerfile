# The serverless-benchmarker image built by `sb init`: the sb binary on a
# small base, so sb can run on a load-generator host that has only Docker.
# BASE is chosen with `sb init --base`.
ARG BASE
FROM ${BASE}
COPY sb /usr/local/bin/sb
WORKDIR /apps
ENTRYPOINT ["/usr/local/bin/sb"]
CMD ["--help"]
