# The reference app: one static binary (built by scripts/build-app.sh, which
# `apprun release` and `apprun local` run first: [services.web.release] in
# apprun.toml) in an empty image. No base image is pulled, so it builds
# offline. The pipeline builds Dockerfile.multistage instead.
FROM scratch
COPY build/hello-app /hello-app
ENV PORT=3000
EXPOSE 3000
USER 65534:65534
ENTRYPOINT ["/hello-app"]
